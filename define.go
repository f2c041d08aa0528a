package policy

import (
	"errors"

	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy/conf"
)

// Definition is a filter type as its package defines it: its name, how its
// Config is decoded from JSON, and how a filter is built from a Config. The
// Kind that plugin configurations name and the Spec that chains built in Go
// use both come from it, so the JSON and the Go form of a filter cannot
// drift apart. Every filter package of this module is written this way, as
// is this filter, which denies requests without a given header:
//
//	package requireheader
//
//	// Config names the header every request must carry ("header").
//	type Config struct{ Header string }
//
//	func decode(o *conf.Object) Config { return Config{Header: o.RequiredString("header")} }
//
//	// Checker is the filter.
//	type Checker struct{ header string }
//
//	// New validates cfg and builds the filter.
//	func New(cfg Config, env *policy.Env) (*Checker, error) {
//		if strings.HasPrefix(cfg.Header, ":") {
//			return nil, conf.Errorf("header", "must not be a pseudo-header, not %q", cfg.Header)
//		}
//		return &Checker{header: cfg.Header}, nil
//	}
//
//	func (c *Checker) OnRequestHeaders(x *policy.Exchange) policy.Result {
//		if _, ok := x.RequestHeader(c.header); !ok {
//			return policy.Deny(policy.Response{Status: 403, Reason: "no " + c.header})
//		}
//		return policy.Continue()
//	}
//
//	var definition = policy.Define("requireheader", decode, New)
//
//	// Kind builds the filter from JSON, for policy.Configured.
//	var Kind = definition.Kind()
//
//	// Filter returns cfg as a filter of a chain built in Go.
//	func Filter(cfg Config) policy.Spec { return definition.Spec(cfg) }
type Definition[C any, F comparable] struct {
	name   string
	decode func(o *conf.Object) C
	build  func(cfg C, env *Env) (F, error)
}

// Define makes a Definition. decode reads a Config from the filter's
// "config" object with o's getters, which record any error; build validates
// the Config and builds the filter, with errors that name the offending
// field by its JSON path (conf.Errorf).
func Define[C any, F comparable](name string, decode func(o *conf.Object) C, build func(cfg C, env *Env) (F, error)) Definition[C, F] {
	return Definition[C, F]{name: name, decode: decode, build: build}
}

// Name is the filter's name in the plugin configuration.
func (d Definition[C, F]) Name() string { return d.name }

// Kind is the filter type for policy.Configured.
func (d Definition[C, F]) Kind() Kind {
	return Kind{Name: d.name, Build: func(o *conf.Object, env *Env) (Filter, error) {
		cfg := d.decode(o)
		if err := o.Err(); err != nil {
			return nil, err
		}
		return d.filter(cfg, env)
	}}
}

// Spec returns cfg as a filter of a chain built in Go, for policy.Static.
// Name it or run it in shadow mode with its WithID and Shadow methods:
// ratelimit.Filter(cfg).WithID("login").Shadow().
func (d Definition[C, F]) Spec(cfg C) Spec {
	return Spec{Kind: d.name, Build: func(env *Env) (Filter, error) { return d.filter(cfg, env) }}
}

// Parse decodes a Config from its JSON form, strictly: unknown fields,
// duplicate keys and wrong types are errors naming their path. It does not
// validate values; building the filter does.
func (d Definition[C, F]) Parse(config gjson.Result) (C, error) {
	o := conf.New("", config)
	cfg := d.decode(o)
	return cfg, o.Err()
}

// filter builds the filter, never returning a typed nil as a Filter.
func (d Definition[C, F]) filter(cfg C, env *Env) (Filter, error) {
	f, err := d.build(cfg, env)
	if err != nil {
		return nil, err
	}
	var none F
	if f == none {
		return nil, errors.New("the filter's constructor returned no filter")
	}
	return f, nil
}
