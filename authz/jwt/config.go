package jwt

import (
	"time"

	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/conf"
	"github.com/wasmpolicy/policy/match"
)

// Config is the filter's configuration: the token providers it accepts, and
// which requests need a token from which of them. Field comments give each
// field's JSON name.
type Config struct {
	// Providers ("providers", at least one) are the issuers whose tokens
	// are verified.
	Providers []Provider
	// Rules ("rules") are tried in order; the first that applies says what
	// the request needs. A request no rule applies to needs a token from
	// any provider; end the list with {"allow_missing": true} to let other
	// requests through without one.
	Rules []Rule
}

// Provider is one token issuer.
type Provider struct {
	// Name ("name", required) is how rules name the provider, and its
	// label in logs and metrics.
	Name string
	// Issuer ("issuer", required) is the "iss" a token must carry.
	Issuer string
	// Audiences ("audiences"), when set, are the audiences one of which a
	// token's "aud" must name; when empty, "aud" is not checked.
	Audiences []string
	// FromHeaders ("from_headers") are the headers the token is taken
	// from, each with the prefix before it ({"name": "authorization",
	// "value_prefix": "Bearer "}). With no FromHeaders, FromParams and
	// FromCookies, the token is the "authorization" header's Bearer
	// credentials, and only those: unlike Envoy's jwt_authn, which also
	// reads an "access_token" query parameter by default, a token in the
	// query is read only from a parameter FromParams names.
	FromHeaders []HeaderSource
	// FromParams ("from_params") are query parameters the token is taken
	// from. The query is read as a backend reads it: "&" and ";" both
	// separate parameters, and names and values are percent-decoded, so
	// "access%5Ftoken" is access_token; every copy is found, and every
	// copy is removed before the request goes upstream.
	FromParams []string
	// FromCookies ("from_cookies") are cookies the token is taken from.
	FromCookies []string
	// JWKS ("jwks") is the provider's key set, a JWKS JSON object (or a
	// string holding one). Symmetric ("oct") keys are accepted here. A
	// provider has either JWKS or RemoteJWKS.
	JWKS string
	// RemoteJWKS ("remote_jwks") fetches the provider's key set over HTTP
	// instead, shared by every worker VM of the proxy. Symmetric keys are
	// not accepted from it.
	RemoteJWKS *RemoteJWKS
	// FailureMode ("failure_mode") says what happens to a request whose
	// token is for this provider while its remote key set has not been
	// fetched yet: policy.FailClosed ("closed") refuses it (401,
	// keys_unavailable), policy.FailOpen ("open") lets it through with no
	// verified claims. Empty means policy.FailClosed.
	FailureMode policy.FailureMode
	// ClockSkew ("clock_skew", a duration) is the grace allowed on exp,
	// nbf and iat; 60s when 0.
	ClockSkew time.Duration
	// Forward ("forward") keeps the token in the request sent upstream;
	// by default it is removed.
	Forward bool
	// ClaimToHeaders ("claim_to_headers") copies claims of a verified
	// token into request headers. A header listed here never reaches the
	// upstream with a value the client sent.
	ClaimToHeaders []ClaimHeader
}

// RemoteJWKS is where a provider's key set is fetched from: an HTTP GET
// through an HTTP callout to an Envoy cluster.
type RemoteJWKS struct {
	// Cluster ("cluster", required) is the Envoy cluster the request goes
	// to.
	Cluster string
	// Path ("path", required) is the request's :path, such as
	// "/.well-known/jwks.json".
	Path string
	// Authority ("authority") is the request's :authority; the cluster's
	// name when empty.
	Authority string
	// Timeout ("timeout", a duration) bounds the fetch; 1s when 0.
	Timeout time.Duration
	// CacheDuration ("cache_duration", a duration) is how long a fetched
	// key set is current; it is fetched again after three quarters of it.
	// 10m when 0.
	CacheDuration time.Duration
}

// HeaderSource is a header a token is read from.
type HeaderSource struct {
	// Name ("name") is the header's name.
	Name string
	// ValuePrefix ("value_prefix") comes before the token in the value,
	// compared case-insensitively: "Bearer ". Empty means the whole value
	// is the token.
	ValuePrefix string
}

// ClaimHeader copies one claim into a request header.
type ClaimHeader struct {
	// Claim ("claim") is the claim's gjson path in the payload.
	Claim string
	// Header ("header") is the request header it is written to. A string,
	// number or boolean claim is written as its text, an array of strings
	// as its elements joined by ","; other claims, and values with control
	// characters, are not written. Nor is an array with an element that
	// has a "," or starts or ends with a space or tab: a backend splitting
	// the list could not tell ["read,admin"] from ["read", "admin"].
	Header string
}

// Rule says what requests matching it need.
type Rule struct {
	// Match ("match") selects the requests, in the shape every filter
	// shares (see the match package); the zero Match selects every
	// request. A rule that lets requests through without a token applies
	// only to requests that certainly match; one that requires a token,
	// to requests that possibly do. With conditions on the JSON body
	// ("body"), a request with a body is verified once its body is there
	// (policy.BodyReader).
	Match match.Match
	// Requires ("requires") names the providers one of which must have
	// issued the request's token; empty means any provider.
	Requires []string
	// AllowMissing ("allow_missing") lets a request without a token
	// through. A token that is present must still verify.
	AllowMissing bool
}

// ParseConfig decodes the filter's JSON "config" object. It checks types and
// rejects unknown fields; New checks the values.
func ParseConfig(raw gjson.Result) (Config, error) { return definition.Parse(raw) }

func decode(o *conf.Object) Config {
	var c Config
	for _, p := range o.Objects("providers") {
		c.Providers = append(c.Providers, decodeProvider(p))
	}
	for _, r := range o.Objects("rules") {
		c.Rules = append(c.Rules, Rule{
			Match:        match.DecodeWithBody(r.Object("match")),
			Requires:     r.Strings("requires"),
			AllowMissing: r.Bool("allow_missing", false),
		})
	}
	return c
}

func decodeProvider(o *conf.Object) Provider {
	p := Provider{
		Name:        o.RequiredString("name"),
		Issuer:      o.RequiredString("issuer"),
		Audiences:   o.Strings("audiences"),
		FromParams:  o.Strings("from_params"),
		FromCookies: o.Strings("from_cookies"),
		ClockSkew:   o.Duration("clock_skew", 0),
		Forward:     o.Bool("forward", false),
	}
	for _, h := range o.Objects("from_headers") {
		p.FromHeaders = append(p.FromHeaders, HeaderSource{Name: h.RequiredString("name"), ValuePrefix: h.String("value_prefix", "")})
	}
	for _, h := range o.Objects("claim_to_headers") {
		p.ClaimToHeaders = append(p.ClaimToHeaders, ClaimHeader{Claim: h.RequiredString("claim"), Header: h.RequiredString("header")})
	}
	if o.Has("failure_mode") { // absent, it stays empty: New applies the default
		p.FailureMode = policy.DecodeFailureMode(o, "")
	}
	if o.Has("remote_jwks") {
		r := o.Object("remote_jwks")
		p.RemoteJWKS = &RemoteJWKS{
			Cluster:       r.RequiredString("cluster"),
			Path:          r.RequiredString("path"),
			Authority:     r.String("authority", ""),
			Timeout:       r.Duration("timeout", 0),
			CacheDuration: r.Duration("cache_duration", 0),
		}
		if o.Has("jwks") {
			o.Fail("jwks", "and remote_jwks exclude each other: give the key set inline or where to fetch it")
		}
		return p
	}
	switch v := o.Value("jwks"); {
	case !v.Exists():
		o.Fail("jwks", "is required: the provider's key set, a JWKS object (or remote_jwks, where to fetch it)")
	case v.Type == gjson.String:
		p.JWKS = v.Str
	case v.IsObject():
		p.JWKS = v.Raw
	default:
		o.Fail("jwks", "must be a JWKS object, or a string holding one")
	}
	return p
}
