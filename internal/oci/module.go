//go:build !wasip1

package oci

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Module returns the Wasm module held by img, applying the rules Istio's
// agent applies to single-layer images: exactly one layer, of media type
// application/vnd.oci.image.layer.v1.tar+gzip (or, in a Docker manifest,
// application/vnd.docker.image.rootfs.diff.tar.gzip), a gzipped tar archive
// whose first entry with base name plugin.wasm is the module. An image this
// function refuses is one the agent would refuse too, except for the
// two-layer wasme artifact shape, which this package neither writes nor
// reads.
func Module(img v1.Image) ([]byte, error) {
	manifest, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("oci: manifest: %w", err)
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("oci: layers: %w", err)
	}
	if len(layers) != 1 {
		return nil, fmt.Errorf("oci: image has %d layers, want 1", len(layers))
	}
	want := types.OCILayer
	if manifest.MediaType == types.DockerManifestSchema2 {
		want = types.DockerLayer
	}
	mt, err := layers[0].MediaType()
	if err != nil {
		return nil, fmt.Errorf("oci: layer media type: %w", err)
	}
	if mt != want {
		return nil, fmt.Errorf("oci: layer media type is %s, want %s", mt, want)
	}
	rc, err := layers[0].Compressed()
	if err != nil {
		return nil, fmt.Errorf("oci: layer: %w", err)
	}
	defer rc.Close()
	return moduleFromLayer(rc)
}

func moduleFromLayer(r io.Reader) ([]byte, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("oci: layer is not gzip: %w", err)
	}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("oci: layer has no %s", ModuleFile)
		}
		if err != nil {
			return nil, fmt.Errorf("oci: layer is not a tar archive: %w", err)
		}
		if path.Base(hdr.Name) == ModuleFile {
			return io.ReadAll(tr)
		}
	}
}
