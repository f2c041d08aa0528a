//go:build !wasip1

package oci

import (
	"fmt"
	"os"
	"regexp"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// RefNameAnnotation is the annotation of an image layout's index that
// holds the image's tag.
const RefNameAnnotation = "org.opencontainers.image.ref.name"

// WriteLayout writes img to dir as an OCI image layout (oci-layout,
// index.json, blobs/sha256/…) whose index names it tag. Whatever dir held
// before is removed first, so the layout holds this image only and
// rewriting an unchanged image leaves identical files.
func WriteLayout(dir string, img v1.Image, tag string) error {
	if err := CheckTag(tag); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("oci: %w", err)
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("oci: %w", err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{RefNameAnnotation: tag})); err != nil {
		return fmt.Errorf("oci: writing %s: %w", dir, err)
	}
	return nil
}

// ReadLayout returns the image of a layout written by WriteLayout, and its
// tag.
func ReadLayout(dir string) (v1.Image, string, error) {
	index, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, "", fmt.Errorf("oci: %w", err)
	}
	m, err := index.IndexManifest()
	if err != nil {
		return nil, "", fmt.Errorf("oci: %s: %w", dir, err)
	}
	if len(m.Manifests) != 1 {
		return nil, "", fmt.Errorf("oci: %s holds %d manifests, want 1", dir, len(m.Manifests))
	}
	desc := m.Manifests[0]
	img, err := index.Image(desc.Digest)
	if err != nil {
		return nil, "", fmt.Errorf("oci: %s: %w", dir, err)
	}
	return img, desc.Annotations[RefNameAnnotation], nil
}

// tagPattern is the tag grammar of the OCI distribution specification.
var tagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// CheckTag reports whether tag is a valid image tag.
func CheckTag(tag string) error {
	if !tagPattern.MatchString(tag) {
		return fmt.Errorf("oci: invalid tag %q: want letters, digits, _ . - (not first), at most 128", tag)
	}
	return nil
}
