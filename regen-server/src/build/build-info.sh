#!/usr/bin/env bash
# Writes build.properties, what `regen --version` prints: the version, and the git commit of the
# source tree with whether it had uncommitted changes. Run by the build (exec-maven-plugin) in the
# module's directory. Outside a git checkout, or without git, the commit is "unknown".
#   build-info.sh OUT_FILE VERSION
set -euo pipefail
out=${1:?usage: build-info.sh OUT_FILE VERSION}
version=${2:?usage: build-info.sh OUT_FILE VERSION}
commit=unknown
dirty=false
# git itself, in the source tree: linked worktrees (git worktree add) resolve to their own HEAD
if command -v git >/dev/null 2>&1 && c=$(git rev-parse --short=7 HEAD 2>/dev/null); then
  commit=$c
  [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && dirty=true
fi
mkdir -p "$(dirname "$out")"
printf '# Written by src/build/build-info.sh at build time\nversion=%s\ncommit=%s\ndirty=%s\n' \
  "$version" "$commit" "$dirty" > "$out"
