//go:build !wasip1

package oci

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ModuleFile is the name of the module in the image's layer: the file
// Istio's agent looks for.
const ModuleFile = "plugin.wasm"

// The platform the image config declares: Go's names for the target.
const (
	OS           = "wasip1"
	Architecture = "wasm"
)

// Options are what an image holds besides the module.
type Options struct {
	// Created is the image's creation time and the module file's
	// modification time, at one-second precision. The zero value means the
	// Unix epoch, so that by default the image depends on the module only.
	Created time.Time
	// Annotations are added to the image manifest, for example
	// org.opencontainers.image.title. Nil adds none.
	Annotations map[string]string
}

func (o Options) created() time.Time {
	if o.Created.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return o.Created.UTC().Truncate(time.Second)
}

// Image returns an OCI image whose only layer is a gzipped tar archive
// holding wasm as ModuleFile (see the package documentation for why this
// shape). The same wasm and Options always give the same digest.
func Image(wasm []byte, opts Options) (v1.Image, error) {
	if !bytes.HasPrefix(wasm, []byte("\x00asm")) {
		return nil, errors.New("oci: not a WebAssembly module (no \\0asm magic number)")
	}
	created := opts.created()
	blob, err := layerBlob(wasm, created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(blob)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("oci: layer: %w", err)
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	base, err = mutate.ConfigFile(base, &v1.ConfigFile{
		Created:      v1.Time{Time: created},
		OS:           OS,
		Architecture: Architecture,
		RootFS:       v1.RootFS{Type: "layers"},
	})
	if err != nil {
		return nil, fmt.Errorf("oci: config: %w", err)
	}
	img, err := mutate.Append(base, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   v1.Time{Time: created},
			CreatedBy: "COPY " + ModuleFile + " /",
		},
	})
	if err != nil {
		return nil, fmt.Errorf("oci: image: %w", err)
	}
	if len(opts.Annotations) > 0 {
		img = mutate.Annotations(img, opts.Annotations).(v1.Image)
	}
	return img, nil
}

// layerBlob is the gzipped tar archive holding wasm as ModuleFile, with
// every header field that could vary between builds fixed.
func layerBlob(wasm []byte, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     ModuleFile,
		Mode:     0o644,
		Size:     int64(len(wasm)),
		ModTime:  mtime,
		Format:   tar.FormatUSTAR,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, fmt.Errorf("oci: tar header: %w", err)
	}
	if _, err := tw.Write(wasm); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
