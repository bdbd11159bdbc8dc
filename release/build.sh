#!/usr/bin/env bash
# Builds a release from the committed state (HEAD, in a fresh clone: nothing uncommitted gets in).
#
#   release/build.sh 0.2.0            # all tests, then the artefacts in target/release/
#   SKIP_TESTS=1 release/build.sh 0.2.0
#
# target/release/ then holds:
#   staging-repo/                    every published module (jar, sources, javadoc, POM) as a Maven
#                                    repository in a directory, ready for an upload tool
#   regen-VERSION.jar                the server (java -jar regen-VERSION.jar serve …)
#   regen-VERSION-image.tar          the OCI image (podman load -i / docker load -i)
#   SHA256SUMS
# and release/check-consumer.sh has proved the staged Spring Boot starter from a separate project.
# release/check-image.sh runs the image where a container runtime exists. Tagging (git tag
# vVERSION) and the upload are left to the person releasing; docs/releasing.md has the steps.
set -euo pipefail
version=${1:?usage: release/build.sh VERSION (e.g. 0.2.0)}
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || { echo "not a semantic version: $version" >&2; exit 2; }
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$repo/target/release
commit=$(git -C "$repo" rev-parse --short=7 HEAD)
[ -z "$(git -C "$repo" status --porcelain --untracked-files=no)" ] \
  || echo "release/build.sh: uncommitted changes are not part of the release (building $commit)" >&2

rm -rf "$out"
mkdir -p "$out"
git clone -q --no-hardlinks "$repo" "$out/src"
git -C "$out/src" checkout -q "$commit"
tests=()
[ "${SKIP_TESTS:-}" = 1 ] && tests=(-DskipTests)
(cd "$out/src" && mvn -B -ntp -P release -Drevision="$version" -Dregen.commit="$commit" \
  -DaltDeploymentRepository="staging::file:$out/staging-repo" "${tests[@]}" deploy)

cp "$out/src/regen-server/target/regen.jar" "$out/regen-$version.jar"
cp "$out/src/regen-server/target/regen-$version-image.tar" "$out/regen-$version-image.tar"
(cd "$out" && sha256sum "regen-$version.jar" "regen-$version-image.tar" > SHA256SUMS)
"$repo/release/check-consumer.sh" "$out/staging-repo" "$version"
echo "release/build.sh: regen $version ($commit) in $out" >&2
ls -l "$out" >&2
