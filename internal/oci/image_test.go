//go:build !wasip1

package oci_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/wasmpolicy/policy/internal/oci"
)

// module is a stand-in for a compiled plugin: the magic number, the
// version and a custom section, enough for the image code, which never
// parses further.
var module = append([]byte("\x00asm\x01\x00\x00\x00\x00\x05\x04name"), bytes.Repeat([]byte("policy"), 1000)...)

func mustImage(t *testing.T, wasm []byte, opts oci.Options) v1.Image {
	t.Helper()
	img, err := oci.Image(wasm, opts)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func digest(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The image has the shape Istio's agent reads as a single-layer OCI image.
func TestImageShape(t *testing.T) {
	img := mustImage(t, module, oci.Options{Annotations: map[string]string{"org.opencontainers.image.title": "x"}})
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != "application/vnd.oci.image.manifest.v1+json" || m.Config.MediaType != "application/vnd.oci.image.config.v1+json" {
		t.Errorf("manifest media types = %s, config %s", m.MediaType, m.Config.MediaType)
	}
	if len(m.Layers) != 1 || m.Layers[0].MediaType != "application/vnd.oci.image.layer.v1.tar+gzip" {
		t.Fatalf("layers = %+v, want one application/vnd.oci.image.layer.v1.tar+gzip", m.Layers)
	}
	if m.Annotations["org.opencontainers.image.title"] != "x" {
		t.Errorf("annotations = %v", m.Annotations)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.OS != "wasip1" || cfg.Architecture != "wasm" || !cfg.Created.Equal(time.Unix(0, 0)) {
		t.Errorf("config: os %q, architecture %q, created %v", cfg.OS, cfg.Architecture, cfg.Created)
	}

	layers, _ := img.Layers()
	rc, err := layers[0].Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	zr, err := gzip.NewReader(rc)
	if err != nil {
		t.Fatal(err)
	}
	if !zr.ModTime.IsZero() || zr.Name != "" {
		t.Errorf("gzip header carries time %v, name %q", zr.ModTime, zr.Name)
	}
	tr := tar.NewReader(zr)
	hdr, err := tr.Next()
	if err != nil {
		t.Fatal(err)
	}
	if hdr.Name != "plugin.wasm" || hdr.Mode != 0o644 || hdr.Uid != 0 || hdr.Gid != 0 || hdr.ModTime.Unix() != 0 || hdr.Typeflag != tar.TypeReg {
		t.Errorf("tar entry = %+v", hdr)
	}
	got, _ := io.ReadAll(tr)
	if !bytes.Equal(got, module) {
		t.Error("tar entry does not hold the module")
	}
	if _, err := tr.Next(); err != io.EOF {
		t.Errorf("more than one tar entry: %v", err)
	}
}

// The digest is a function of the module and the options only.
func TestImageReproducible(t *testing.T) {
	d := digest(t, mustImage(t, module, oci.Options{}))
	if again := digest(t, mustImage(t, append([]byte(nil), module...), oci.Options{})); again != d {
		t.Errorf("rebuilt digest %s, first %s", again, d)
	}
	if epoch := digest(t, mustImage(t, module, oci.Options{Created: time.Unix(0, 0).In(time.FixedZone("x", 3600))})); epoch != d {
		t.Errorf("explicit epoch in another zone gave %s, default %s", epoch, d)
	}
	if sub := digest(t, mustImage(t, module, oci.Options{Created: time.Unix(0, 999)})); sub != d {
		t.Errorf("sub-second time changed the digest: %s", sub)
	}
	later := digest(t, mustImage(t, module, oci.Options{Created: time.Unix(1700000000, 0)}))
	if later == d {
		t.Error("another creation time gave the same digest")
	}
	changed := append(append([]byte(nil), module...), 0)
	if other := digest(t, mustImage(t, changed, oci.Options{})); other == d {
		t.Error("another module gave the same digest")
	}
}

func TestImageRejectsNonWasm(t *testing.T) {
	if _, err := oci.Image([]byte("#!/bin/sh\n"), oci.Options{}); err == nil {
		t.Fatal("a shell script was packaged as a module")
	}
}

// Writing the same image twice leaves byte-identical layouts, and reading
// a layout gives back the image, its tag and its module.
func TestLayoutRoundTrip(t *testing.T) {
	img := mustImage(t, module, oci.Options{})
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	if err := oci.WriteLayout(a, img, "v1"); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(b, "blobs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b, "blobs", "stale"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := oci.WriteLayout(b, mustImage(t, module, oci.Options{}), "v1"); err != nil {
		t.Fatal(err)
	}
	if ta, tb := tree(t, a), tree(t, b); !equalTrees(ta, tb) {
		t.Errorf("layouts differ:\n%v\n%v", ta, tb)
	}
	// Rewriting over an existing layout replaces it.
	if err := oci.WriteLayout(a, mustImage(t, module, oci.Options{Created: time.Unix(1700000000, 0)}), "v2"); err != nil {
		t.Fatal(err)
	}
	back, tag, err := oci.ReadLayout(a)
	if err != nil {
		t.Fatal(err)
	}
	if tag != "v2" || digest(t, back) == digest(t, img) {
		t.Errorf("after rewriting: tag %q, digest %s (old %s)", tag, digest(t, back), digest(t, img))
	}
	if n := len(tree(t, filepath.Join(a, "blobs"))); n != 3 {
		t.Errorf("rewritten layout has %d blobs, want 3 (manifest, config, layer)", n)
	}
	got, err := oci.Module(back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, module) {
		t.Error("module read back differs")
	}
}

func TestWriteLayoutRejectsBadTag(t *testing.T) {
	for _, tag := range []string{"", "a:b", "-x", "UPPER/slash"} {
		if err := oci.WriteLayout(t.TempDir(), mustImage(t, module, oci.Options{}), tag); err == nil {
			t.Errorf("tag %q accepted", tag)
		}
	}
}

// Module applies the agent's rules: other shapes are refused with a reason.
func TestModuleRules(t *testing.T) {
	layer := func(mt types.MediaType, name string) v1.Layer {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		tw := tar.NewWriter(zw)
		_ = tw.WriteHeader(&tar.Header{Name: "README", Size: 2, Mode: 0o644})
		_, _ = tw.Write([]byte("hi"))
		_ = tw.WriteHeader(&tar.Header{Name: name, Size: int64(len(module)), Mode: 0o644})
		_, _ = tw.Write(module)
		_ = tw.Close()
		_ = zw.Close()
		return static.NewLayer(buf.Bytes(), mt)
	}
	image := func(manifest types.MediaType, layers ...v1.Layer) v1.Image {
		img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, manifest), layers...)
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	accepted := map[string]v1.Image{
		"oci, entry in a directory": image(types.OCIManifestSchema1, layer(types.OCILayer, "./plugin.wasm")),
		"docker":                    image(types.DockerManifestSchema2, layer(types.DockerLayer, "plugin.wasm")),
	}
	for name, img := range accepted {
		got, err := oci.Module(img)
		if err != nil || !bytes.Equal(got, module) {
			t.Errorf("%s: err %v, module found %v", name, err, bytes.Equal(got, module))
		}
	}
	refused := map[string]v1.Image{
		"two layers":           image(types.OCIManifestSchema1, layer(types.OCILayer, "plugin.wasm"), layer(types.OCILayer, "plugin.wasm")),
		"no layer":             image(types.OCIManifestSchema1),
		"docker layer in oci":  image(types.OCIManifestSchema1, layer(types.DockerLayer, "plugin.wasm")),
		"oci layer in docker":  image(types.DockerManifestSchema2, layer(types.OCILayer, "plugin.wasm")),
		"uncompressed layer":   image(types.OCIManifestSchema1, layer(types.OCIUncompressedLayer, "plugin.wasm")),
		"other file name":      image(types.OCIManifestSchema1, layer(types.OCILayer, "extension.wasm")),
		"raw module, artifact": image(types.OCIManifestSchema1, static.NewLayer(module, "application/vnd.module.wasm.content.layer.v1+wasm")),
		"not gzip":             image(types.OCIManifestSchema1, static.NewLayer(module, types.OCILayer)),
	}
	for name, img := range refused {
		if _, err := oci.Module(img); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// tree maps each file under dir to the hash of its content.
func tree(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	files := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		files[rel] = sha256.Sum256(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func equalTrees(a, b map[string][32]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
