package bodymutate_test

import (
	"fmt"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/bodymutate"
	"github.com/wasmpolicy/policy/internal/testdata/mutatechain/probe"
	"github.com/wasmpolicy/policy/internal/testfilters"
	"github.com/wasmpolicy/policy/match"
)

// The tests run natively and against build/mutatechain.wasm, which links
// bodymutate with the dispatcher's test filter "step" (which publishes
// claims as a jwt filter would).

const image = "mutatechain"

func native() types.VMContext {
	return policy.Configured(bodymutate.Kind, testfilters.Kind, probe.Kind)
}

// entry is a chain entry: the filter kind name with id and config.
func entry(name, id, config string) string {
	return fmt.Sprintf(`{"name":%q,"id":%q,"config":%s}`, name, id, config)
}

// verified is a step that publishes claims as the verified token's.
func verified(claims string) string {
	return entry("step", "verified", `{"phase": "request_headers", "claims": `+claims+`}`)
}

func mutate(config string) string { return entry("bodymutate", "body", config) }

// readings returns the distinct readings of path in doc, as JSON text
// ("absent" for a missing field); "unreadable" if doc is not readable.
func readings(t *testing.T, doc, path string) []string {
	t.Helper()
	j, err := match.ParseJSON([]byte(doc))
	if err != nil {
		return []string{"unreadable"}
	}
	p, err := match.ParseFieldPath(path)
	if err != nil {
		t.Fatal(err)
	}
	vs, _ := j.Readings(p)
	var out []string
	for _, v := range vs {
		switch v.Kind {
		case match.JSONAbsent:
			out = append(out, "absent")
		case match.JSONString:
			out = append(out, fmt.Sprintf("%q", v.Text))
		case match.JSONNumber, match.JSONBool:
			out = append(out, v.Text)
		default:
			out = append(out, v.Kind.String())
		}
	}
	return out
}

func header(headers [][2]string, name string) string {
	for _, h := range headers {
		if h[0] == name {
			return h[1]
		}
	}
	return ""
}
