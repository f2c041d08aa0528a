// Package doccheck holds no code. Its test keeps the documentation honest:
// every Go code block in the package documentation, the READMEs and the
// CHANGELOG must compile against the module, and every plugin-configuration
// error message the documentation shows must be the line a plugin logs for
// some configuration.
package doccheck
