// Package contract holds filters written the way a user of the library
// writes them, right and wrong, for the tests of the filter contract.
package contract

import (
	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/conf"
)

// Tenant is a user's filter written with policy.Define: it denies requests
// whose tenant header is not the configured one.
//
//	{"header": "x-tenant", "tenant": "acme", "deny": {"status": 404}}
type Tenant struct {
	header, tenant string
	deny           policy.Response
}

// TenantConfig configures Tenant.
type TenantConfig struct {
	Header, Tenant string
	Deny           policy.DenyResponse
}

var tenant = policy.Define("tenant", func(o *conf.Object) TenantConfig {
	return TenantConfig{
		Header: o.RequiredString("header"),
		Tenant: o.RequiredString("tenant"),
		Deny:   policy.DecodeDenyResponse(o.Object("deny")),
	}
}, NewTenant)

// TenantKind is Tenant for JSON configuration.
var TenantKind = tenant.Kind()

// NewTenant builds a Tenant.
func NewTenant(c TenantConfig, _ *policy.Env) (*Tenant, error) {
	deny, err := c.Deny.Response(policy.Response{Status: 403, Body: "wrong tenant\n"})
	if err != nil {
		return nil, conf.Within("deny", err)
	}
	return &Tenant{header: policy.HeaderName(c.Header), tenant: c.Tenant, deny: deny}, nil
}

// OnRequestHeaders checks the tenant.
func (t *Tenant) OnRequestHeaders(x *policy.Exchange) policy.Result {
	if v, _ := x.RequestHeader(t.header); v != t.tenant {
		return policy.Deny(t.deny)
	}
	return policy.Continue()
}

// LaxKind is a Kind written by hand that reads only some of its
// configuration; the plugin reports the rest as unknown.
var LaxKind = policy.Kind{Name: "lax", Build: func(o *conf.Object, _ *policy.Env) (policy.Filter, error) {
	o.Object("limits").Int("rps", 0)
	return &Tenant{}, nil
}}

// misspelt has OnRequestHeader (no s): it implements no phase.
type misspelt struct{}

func (misspelt) OnRequestHeader(x *policy.Exchange) policy.Result { return policy.Continue() }

// MisspeltKind builds a filter whose method name is misspelt.
var MisspeltKind = policy.Kind{Name: "misspelt", Build: func(*conf.Object, *policy.Env) (policy.Filter, error) {
	return misspelt{}, nil
}}

// Nothing is a Definition whose constructor returns a nil filter.
var Nothing = policy.Define("nothing", func(*conf.Object) struct{} { return struct{}{} },
	func(struct{}, *policy.Env) (*Tenant, error) { return nil, nil }).Kind()

// Plugin links in every filter of this package.
func Plugin() *policy.Plugin { return policy.Configured(TenantKind, LaxKind, MisspeltKind, Nothing) }
