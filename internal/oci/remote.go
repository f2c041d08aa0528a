//go:build !wasip1

package oci

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Credentials come from the Docker configuration, as for `docker push`:
// $DOCKER_CONFIG/config.json, else ~/.docker/config.json, including its
// credential helpers ("credHelpers", "credsStore"); anonymous when it has
// none for the registry. Istio's agent uses the same keychain when a
// WasmPlugin names no imagePullSecret.
func remoteOptions(ctx context.Context) []remote.Option {
	return []remote.Option{remote.WithAuthFromKeychain(authn.DefaultKeychain), remote.WithContext(ctx)}
}

// Push uploads img as ref (host[:port]/repository:tag) and returns the
// pushed image's reference by digest. Registries on loopback or private
// addresses are reached over plain HTTP, others over HTTPS.
func Push(ctx context.Context, img v1.Image, ref string) (name.Digest, error) {
	tag, err := name.NewTag(ref, name.StrictValidation)
	if err != nil {
		return name.Digest{}, fmt.Errorf("oci: %w", err)
	}
	if err := remote.Write(tag, img, remoteOptions(ctx)...); err != nil {
		return name.Digest{}, fmt.Errorf("oci: pushing %s: %w", ref, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return name.Digest{}, fmt.Errorf("oci: %w", err)
	}
	return tag.Context().Digest(digest.String()), nil
}

// Fetch pulls the module ref names (by tag or by digest) the way Istio's
// agent does for `url: oci://<ref>`: it resolves credentials from the
// Docker keychain, retries over plain HTTP when the registry answers an
// HTTPS request with HTTP, fetches the image and extracts the module with
// Module. It returns the module and the image's manifest digest, the
// value a WasmPlugin's sha256 field is checked against.
func Fetch(ctx context.Context, ref string) ([]byte, v1.Hash, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, v1.Hash{}, fmt.Errorf("oci: %w", err)
	}
	opts := remoteOptions(ctx)
	if _, err := remote.Get(r, opts...); err != nil && strings.Contains(err.Error(), "server gave HTTP response") {
		if r, err = name.ParseReference(ref, name.Insecure); err != nil {
			return nil, v1.Hash{}, fmt.Errorf("oci: %w", err)
		}
	}
	img, err := remote.Image(r, opts...)
	if err != nil {
		return nil, v1.Hash{}, fmt.Errorf("oci: fetching %s: %w", ref, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return nil, v1.Hash{}, fmt.Errorf("oci: %w", err)
	}
	wasm, err := Module(img)
	if err != nil {
		return nil, v1.Hash{}, fmt.Errorf("%w (image %s)", err, ref)
	}
	return wasm, digest, nil
}
