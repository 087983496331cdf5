#!/usr/bin/env bash
# Regenerates profiles/: the two real seccomp profiles cbpf bundles, copied
# byte for byte from Debian bookworm's packages (downloaded, never installed):
#   golang-github-docker-docker-dev      Docker's default.json   (moby 20.10.24)
#   golang-github-containers-common-dev  podman's seccomp.json   (containers/common 0.50.1)
# Also writes profiles/README.md (provenance) and profiles/LICENSE.Apache-2.0.
# Fails if apt offers other versions than the ones recorded here. Needs network
# access to a Debian bookworm mirror, not root. Run from anywhere.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/profiles"
docker_pkg=golang-github-docker-docker-dev docker_ver=20.10.24+dfsg1-1+deb12u1
common_pkg=golang-github-containers-common-dev common_ver=0.50.1+ds1-4
docker_src=/usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json
common_src=/usr/share/gocode/src/github.com/containers/common/pkg/seccomp/seccomp.json
licence=/usr/share/common-licenses/Apache-2.0

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
if ! apt-get download -qq "$docker_pkg" "$common_pkg" 2>/dev/null; then
  apt-get update -qq
  apt-get download -qq "$docker_pkg" "$common_pkg"
fi

# check that each .deb is the recorded version, then unpack it into x/
check() { # package expected-version
  local deb got
  deb="$(ls "$1"_*.deb)"
  got="$(dpkg-deb -f "$deb" Version)"
  echo "profiles: $1 $got"
  if [ "$got" != "$2" ]; then
    echo "profiles: $1 is $got, expected $2; update scripts/gen-profiles.sh and profiles/README.md" >&2
    exit 1
  fi
  dpkg -x "$deb" x
}
check "$docker_pkg" "$docker_ver"
check "$common_pkg" "$common_ver"

# both packages must say Apache-2.0 for the files copied
for p in "$docker_pkg" "$common_pkg"; do
  grep -q '^License: Apache-2.0' "x/usr/share/doc/$p/copyright" || {
    echo "profiles: $p's copyright file no longer names Apache-2.0; check the licence by hand" >&2
    exit 1
  }
done

mkdir -p "$out"
cp "x$docker_src" "$out/docker-20.10.24.json"
cp "x$common_src" "$out/containers-common-0.50.1.json"
cp "$licence" "$out/LICENSE.Apache-2.0"

cat >"$out/README.md" <<EOF
# Bundled seccomp profiles

Real container-runtime seccomp profiles, kept as test and example input for
cbpf. Both files are **unmodified** copies, byte for byte, of the files in
Debian bookworm's packages; \`scripts/gen-profiles.sh\` downloads the packages
again and rewrites this folder.

| file | Debian package (version), source package | path in package | upstream |
| --- | --- | --- | --- |
| \`docker-20.10.24.json\` | \`$docker_pkg\` ($docker_ver), \`docker.io\` | \`$docker_src\` | [moby/moby](https://github.com/moby/moby) v20.10.24, \`profiles/seccomp/default.json\` |
| \`containers-common-0.50.1.json\` | \`$common_pkg\` ($common_ver), \`golang-github-containers-common\` | \`$common_src\` | [containers/common](https://github.com/containers/common) v0.50.1, \`pkg/seccomp/seccomp.json\` |

\`containers-common-0.50.1.json\` is identical to upstream's file at v0.50.1.
\`docker-20.10.24.json\` is Debian's: Debian patches it ("Fix default seccomp on
mips", Debian bug #1000318, the change of moby commit 37382be85a), so the
unconditional \`clone3\` ENOSYS rule of upstream v20.10.24 becomes two rules:
errno 38 excluding the MIPS arches, errno 89 for them. It has one more
\`syscalls\` entry than upstream v20.10.24's file.

## Licence

Both files are under the Apache License, Version 2.0, according to each
package's \`/usr/share/doc/<package>/copyright\` (stanza \`Files: *\`):

- \`docker-20.10.24.json\`: Copyright 2012-2018 Docker, Inc. <support@docker.com>.
  Docker's NOTICE: "This product includes software developed at Docker, Inc.
  (https://www.docker.com)."
- \`containers-common-0.50.1.json\`: Copyright 2018 github.com/containers/common authors.

The licence text is in \`LICENSE.Apache-2.0\`, copied from Debian's
\`$licence\`. cbpf's own licence does not cover these files.
EOF
echo "profiles: wrote $(cd "$out" && echo docker-20.10.24.json containers-common-0.50.1.json LICENSE.Apache-2.0 README.md)"
