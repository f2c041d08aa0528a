//go:build !wasip1

package oci_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/wasmpolicy/policy/internal/oci"
)

// registryWithAuth serves an in-memory registry on loopback that demands
// HTTP basic authentication as user:secret.
func registryWithAuth(t *testing.T) string {
	t.Helper()
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "user" || p != "secret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// dockerConfig points the Docker keychain at a config.json that holds
// credentials for host, or none when auth is empty.
func dockerConfig(t *testing.T, host, auth string) {
	t.Helper()
	dir := t.TempDir()
	cfg := `{"auths":{}}`
	if auth != "" {
		cfg = fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, base64.StdEncoding.EncodeToString([]byte(auth)))
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
}

// Push uses the Docker configuration's credentials, and Fetch pulls the
// same image back by tag and by digest, as the agent does.
func TestPushFetch(t *testing.T) {
	ctx := context.Background()
	host := registryWithAuth(t)
	img := mustImage(t, module, oci.Options{})
	want := digest(t, img)
	ref := host + "/policy/example:v1"

	dockerConfig(t, host, "")
	if _, err := oci.Push(ctx, img, ref); err == nil || !strings.Contains(err.Error(), "401") && !strings.Contains(strings.ToLower(err.Error()), "unauthorized") {
		t.Fatalf("push without credentials: %v, want an authorization error", err)
	}

	dockerConfig(t, host, "user:secret")
	pushed, err := oci.Push(ctx, img, ref)
	if err != nil {
		t.Fatal(err)
	}
	if pushed.String() != host+"/policy/example@"+want.String() {
		t.Errorf("pushed %s, want digest %s", pushed, want)
	}
	for _, r := range []string{ref, pushed.String()} {
		wasm, got, err := oci.Fetch(ctx, r)
		if err != nil {
			t.Fatalf("fetch %s: %v", r, err)
		}
		if got != want || !bytes.Equal(wasm, module) {
			t.Errorf("fetch %s: digest %s (want %s), module equal %v", r, got, want, bytes.Equal(wasm, module))
		}
	}

	if _, _, err := oci.Fetch(ctx, host+"/policy/example:missing"); err == nil {
		t.Error("fetching a missing tag succeeded")
	}
	dockerConfig(t, host, "user:wrong")
	if _, _, err := oci.Fetch(ctx, ref); err == nil {
		t.Error("fetch with wrong credentials succeeded")
	}
}

func TestPushRejectsReferenceWithoutTag(t *testing.T) {
	if _, err := oci.Push(context.Background(), mustImage(t, module, oci.Options{}), "127.0.0.1:1/policy/example"); err == nil || !strings.Contains(err.Error(), "tag") {
		t.Errorf("a reference without a tag: %v, want an error about the tag", err)
	}
}
