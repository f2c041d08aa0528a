//go:build !wasip1

// Package oci packages a compiled plugin as an OCI image that Istio's agent
// can pull (`url: oci://…` in a WasmPlugin), writes it as an OCI image
// layout, pushes it to a registry, and pulls it back the way the agent does.
//
// # Which image format
//
// Istio's agent (pkg/wasm of istio/istio) accepts three shapes of image:
//
//   - a Docker image (manifest application/vnd.docker.distribution.manifest.v2+json)
//     with exactly one layer application/vnd.docker.image.rootfs.diff.tar.gzip;
//   - an OCI image with exactly one layer application/vnd.oci.image.layer.v1.tar+gzip;
//   - an "artifact" with exactly two layers, one of them
//     application/vnd.module.wasm.content.layer.v1+wasm holding the raw
//     module (the format of the retired solo.io wasme tool, whose second
//     layer was a application/vnd.module.wasm.config.v1+json document).
//
// In the first two the layer is a gzipped tar archive and the agent takes
// the entry whose base name is plugin.wasm.
//
// This package writes the second shape, the OCI image with one gzipped tar
// layer holding plugin.wasm, and only that, because:
//
//   - it is what the Istio and managed-mesh Wasm tutorials deploy (`FROM scratch` + `COPY
//     plugin.wasm ./`, built with Docker or Buildah), so the images here
//     behave exactly like the ones users already know;
//   - every Istio release that has WasmPlugin reads it, while the
//     two-layer artifact shape is specific to the retired wasme tool and
//     differs from the newer CNCF Wasm OCI artifact (application/wasm
//     layers), which Istio does not read;
//   - it is an ordinary image: any registry stores it and any tool (crane,
//     skopeo, docker pull) inspects it, whereas some registries refuse
//     unknown layer media types.
//
// The image config says os "wasip1" and architecture "wasm" (the Go
// names of the target), so no tool mistakes it for a runnable container.
//
// # Reproducible
//
// An image depends only on the module's bytes and Options: the file's
// modification time and the image's creation time are fixed (the Unix
// epoch unless Options.Created says otherwise), the tar entry has fixed
// owner and mode, and the gzip header carries no name or time. Rebuilding
// an unchanged module therefore gives the same manifest digest, so a
// WasmPlugin pinned by digest keeps matching. The gzip stream comes from
// Go's compress/flate, so the digest is stable for a given Go release; a
// Go release that changes its compressor may change it.
//
// The package is build tooling: it runs on the machine that builds the
// plugins, never inside the proxy, and is left out of wasip1 builds, for
// which the Docker credential code it uses does not compile.
package oci
