#!/usr/bin/env bash
# Builds the base of Regen's OCI image without a container daemon or a registry: a root filesystem
# made of four Debian packages (the C and C++ runtimes and zlib, which the JVM links against) and a
# Java runtime cut down by jlink from the build's own JDK, written as a `docker save` tarball that
# Jib reads as its base (from.image = tar://…). Jib then adds the application layers on top.
#
#   regen-server/src/image/build-base.sh OUT_DIR [JDK_HOME]
#
# Writes OUT_DIR/base.tar (and keeps OUT_DIR/rootfs, OUT_DIR/debs for inspection). Needs a Debian
# or Ubuntu host with apt's package lists (apt-get update once), dpkg-deb, GNU tar, and a JDK 17+
# with jmods (Debian: openjdk-17-jdk-headless) or a linkable runtime (JDK 24+). The layer is
# reproducible for a given JDK and set of package versions: fixed owners, order and timestamps.
#
# What is in the image besides the application:
#   /opt/java        the runtime (the modules Regen and its libraries use; see MODULES), with the
#                    JDK's default class-data-sharing archive for a faster start
#   /lib, /usr/lib   glibc, libgcc, libstdc++, zlib (Debian packages; their copyright files kept)
#   /etc             passwd and group with the unprivileged user regen (65532), nsswitch.conf
#   /data            the working directory and volume: the embedded store; owned by 65532
#   /tmp             1777: the SQLite and Netty native libraries are unpacked there at start-up
# No shell, no package manager: nothing to log in with and nothing to patch but by rebuilding.
set -euo pipefail

out=${1:?usage: build-base.sh OUT_DIR [JDK_HOME]}
jdk=${2:-${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}}
# SOURCE_DATE_EPOCH (reproducible-builds.org): the timestamp of every file in the layer
epoch=${SOURCE_DATE_EPOCH:-0}
uid=65532

# The modules the application reaches (jdeps over regen.jar and its libraries, less the optional
# ones: java.desktop is only java.beans, which Jackson and SnakeYAML treat as optional) plus
# jdk.crypto.ec, which TLS to an https:// origin or rediss:// needs for its ECDHE key exchange.
MODULES=java.base,java.logging,java.management,java.naming,java.net.http,java.sql,java.xml,jdk.crypto.ec,jdk.httpserver,jdk.jfr,jdk.management,jdk.unsupported
PACKAGES="libc6 libgcc-s1 libstdc++6 zlib1g"

for tool in apt-get dpkg-deb tar sha256sum; do
  command -v "$tool" >/dev/null || { echo "build-base.sh: missing $tool (a Debian or Ubuntu host is needed)" >&2; exit 1; }
done
[ -x "$jdk/bin/jlink" ] || { echo "build-base.sh: no jlink in $jdk (give a JDK home)" >&2; exit 1; }

mkdir -p "$out"
out=$(cd "$out" && pwd)
rootfs=$out/rootfs
rm -rf "$rootfs" "$out/image" "$out/base.tar"
mkdir -p "$rootfs" "$out/debs" "$out/image"

# ------------------------------------------------------------------ Debian packages
# apt-get download fetches the .deb files of the host's release, no install; kept between builds.
(cd "$out/debs" && rm -f ./*.deb && apt-get download $PACKAGES) >/dev/null 2>"$out/apt.log" || {
  cat "$out/apt.log" >&2
  echo "build-base.sh: apt-get download $PACKAGES failed (run apt-get update first?)" >&2
  exit 1
}
for deb in "$out"/debs/*.deb; do
  dpkg-deb -x "$deb" "$rootfs"
done
# what the JVM does not use: iconv modules, documentation but the copyright files, lintian data
rm -rf "$rootfs/usr/lib/x86_64-linux-gnu/gconv" "$rootfs/usr/share/lintian" "$rootfs/usr/share/gdb" \
       "$rootfs/usr/share/locale" "$rootfs/usr/libexec" "$rootfs/usr/bin" "$rootfs/usr/sbin" "$rootfs/sbin" "$rootfs/bin"
find "$rootfs/usr/share/doc" -type f ! -name copyright -delete
mkdir -p "$rootfs/usr/share/doc/regen-image"
for deb in "$out"/debs/*.deb; do
  dpkg-deb -f "$deb" Package Version | paste -sd' ' -
done | sort > "$rootfs/usr/share/doc/regen-image/packages.txt"

# ------------------------------------------------------------------ the Java runtime
"$jdk/bin/jlink" --add-modules "$MODULES" --strip-debug --no-man-pages --no-header-files --compress=2 \
  --generate-cds-archive --output "$rootfs/opt/java" >"$out/jlink.log" 2>&1 || {
  cat "$out/jlink.log" >&2
  echo "build-base.sh: jlink failed (a JDK with jmods, e.g. Debian's openjdk-17-jdk-headless?)" >&2
  exit 1
}
# the archive for heaps over 32 GiB (no compressed oops): not this image's use
rm -f "$rootfs/opt/java/lib/server/classes_nocoops.jsa"
"$jdk/bin/java" -version 2>&1 | head -1 >> "$rootfs/usr/share/doc/regen-image/packages.txt"

# ------------------------------------------------------------------ /etc, /data, /tmp
mkdir -p "$rootfs/etc" "$rootfs/tmp" "$rootfs/data"
printf 'root:x:0:0:root:/root:/sbin/nologin\nregen:x:%s:%s:regen:/data:/sbin/nologin\n' "$uid" "$uid" > "$rootfs/etc/passwd"
printf 'root:x:0:\nregen:x:%s:\n' "$uid" > "$rootfs/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$rootfs/etc/nsswitch.conf"
chmod 1777 "$rootfs/tmp"
chmod 0750 "$rootfs/data"

# ------------------------------------------------------------------ the layer and the image tarball
layer=$out/image/layer.tar
common=(--sort=name --mtime="@$epoch" --numeric-owner --format=posix
        --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime)
tar -C "$rootfs" "${common[@]}" --owner=0 --group=0 --exclude=./data -cf "$layer" .
tar -C "$rootfs" "${common[@]}" --owner=$uid --group=$uid --no-recursion -rf "$layer" ./data
layer_sha=$(sha256sum "$layer" | cut -d' ' -f1)
mkdir -p "$out/image/$layer_sha"
mv "$layer" "$out/image/$layer_sha/layer.tar"

created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
cat > "$out/image/config.json" <<EOF
{"architecture":"amd64","os":"linux","created":"$created",
 "config":{"Env":["PATH=/opt/java/bin","JAVA_HOME=/opt/java","LANG=C.UTF-8"],"User":"$uid:$uid","WorkingDir":"/data"},
 "rootfs":{"type":"layers","diff_ids":["sha256:$layer_sha"]},
 "history":[{"created":"$created","created_by":"regen-server/src/image/build-base.sh: $PACKAGES, jlink $MODULES"}]}
EOF
config_sha=$(sha256sum "$out/image/config.json" | cut -d' ' -f1)
mv "$out/image/config.json" "$out/image/$config_sha.json"
printf '[{"Config":"%s.json","RepoTags":["regen-base:local"],"Layers":["%s/layer.tar"]}]\n' "$config_sha" "$layer_sha" \
  > "$out/image/manifest.json"
# named entries, no "./": Jib refuses an entry that could point outside its unpack directory
tar -C "$out/image" --mtime="@$epoch" --owner=0 --group=0 --numeric-owner -cf "$out/base.tar" \
  manifest.json "$config_sha.json" "$layer_sha/layer.tar"
echo "build-base.sh: $out/base.tar ($(du -h "$out/base.tar" | cut -f1), layer sha256:${layer_sha:0:12})" >&2
