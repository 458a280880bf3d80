#!/usr/bin/env bash
# Builds the test images that run the REAL model servers (tests/servers/): Azure ML's azmlinfsrv and the other
# stacks that install here. Nothing can be pulled, so each image is a Debian bookworm root (debootstrap, cached)
# plus the server's PyPI packages installed on the host into the image's site-packages (the host's Python 3.11
# matches bookworm's python3), imported with `docker import`. Run after .ci/docker.sh (it starts the engine).
# Idempotent; an image whose package list is unchanged is kept. Under CI=true a missing image fails the run.
# Usage: bash .ci/servers.sh [STACK...]     (default: every stack)
set -u

log() { echo "[servers.sh] $*"; }
CACHE=${MLDOCTOR_SRV_CACHE:-/var/cache/mldoctor}   # another folder (and MLDOCTOR_SRV_REBUILD=1) = a build from scratch
BASE=$CACHE/srv-bookworm            # debootstrap root shared by every server image but those of JAVA_STACKS
BASE_JAVA=$CACHE/srv-bookworm-java  # the same with Debian's OpenJDK 17 (TorchServe's frontend is Java)
PKGS=$CACHE/srv-pkgs                # one pip --target folder per stack
SITE=usr/local/lib/python3.11/dist-packages
BUILD_VERSION=1                     # bump to rebuild every image
HERE=$(cd "$(dirname "$0")" && pwd)

# stack -> pip requirements (pinned: the images are test fixtures; bump on purpose)
declare -A REQS=(
    [azmlinfsrv]="azureml-inference-server-http==1.5.1 numpy==2.4.6"  # numpy: what nearly every score.py imports (scenario unserializable)
    [mlserver]="mlserver==1.7.1 mlserver-sklearn==1.7.1 scikit-learn==1.9.1 uvloop==0.21.0"  # uvloop 0.22+ breaks 1.7.1's workers
    [kserve]="kserve==0.21.0"
    [bentoml]="bentoml==1.4.40"
    [torchserve]="torchserve==0.12.0 torch-model-archiver==0.12.0 torch==2.13.0 pyyaml==6.0.3 numpy==2.4.6"  # torch: the CPU file on this disk; pyyaml: the worker imports it undeclared
)
ORDER=(azmlinfsrv mlserver kserve bentoml torchserve)      # the stacks tests/servers/ runs (CI builds these)
declare -A JAVA_STACKS=([torchserve]=1)
declare -A BASE_PKGS=([$BASE]=python3,ca-certificates [$BASE_JAVA]=python3,ca-certificates,openjdk-17-jre-headless)

image_of() { echo "mldoctor-srv-$1:1"; }
stamp_of() { echo "$BUILD_VERSION ${REQS[$1]} $(cat "$HERE/servers-build.py" 2>/dev/null | sha256sum | cut -c1-12)" | sha256sum | cut -c1-16; }

have_current() {
    local label
    [ "${MLDOCTOR_SRV_REBUILD:-}" != 1 ] || return 1
    label=$(docker image inspect --format '{{ index .Config.Labels "mldoctor.srv.stamp" }}' "$(image_of "$1")" 2>/dev/null) || return 1
    [ "$label" = "$(stamp_of "$1")" ]
}

build_base() {  # build_base DIR: a bookworm root with the DIR's BASE_PKGS, cached in DIR
    local base=$1 include=${BASE_PKGS[$1]} name
    name=$(basename "$base")
    if [ -x "$base/usr/bin/python3" ]; then return 0; fi
    command -v debootstrap >/dev/null || { log "debootstrap missing (.ci/docker.sh installs it)"; return 1; }
    log "debootstrap bookworm ($include) into $base"
    rm -rf "$base.tmp"
    if ! debootstrap --variant=minbase --include="$include" bookworm "$base.tmp" \
            >"$CACHE/$name-debootstrap.log" 2>&1; then
        log "debootstrap failed, see $CACHE/$name-debootstrap.log"; tail -n 20 "$CACHE/$name-debootstrap.log"; return 1
    fi
    rm -rf "$base.tmp"/var/cache/apt/archives/*.deb "$base.tmp"/var/lib/apt/lists/* \
           "$base.tmp"/usr/share/{doc,locale,man,info}/*
    mv "$base.tmp" "$base"
}

base_of() { if [ -n "${JAVA_STACKS[$1]:-}" ]; then echo "$BASE_JAVA"; else echo "$BASE"; fi; }

install_pkgs() {  # pip --target on the host, cached per stack and package list
    local stack=$1 dir="$PKGS/$1-$(stamp_of "$1")"
    if [ -f "$dir/.done" ]; then echo "$dir"; return 0; fi
    rm -rf "$dir" && mkdir -p "$PKGS"
    # shellcheck disable=SC2086  # the requirement list is split on purpose
    if ! python3 -m pip install -q --no-warn-script-location --disable-pip-version-check --target "$dir" \
            ${REQS[$stack]} >"$CACHE/srv-pip-$stack.log" 2>&1; then
        log "pip install for $stack failed, see $CACHE/srv-pip-$stack.log" >&2
        grep -v '^WARNING: Location' "$CACHE/srv-pip-$stack.log" | tail -n 15 >&2
        return 1
    fi
    touch "$dir/.done"
    echo "$dir"
}

build_image() {
    local stack=$1 pkgs stage base started=$SECONDS
    if have_current "$stack"; then log "$(image_of "$stack") present"; return 0; fi
    pkgs=$(install_pkgs "$stack") || return 1
    base=$(base_of "$stack")
    build_base "$base" || return 1                               # made once per base (the shared one in main)
    stage=$(mktemp -d "$CACHE/srv-stage.XXXXXX")
    cp -al "$base/." "$stage/"                                   # hard links: no copy of the base
    mkdir -p "$stage/$SITE" "$stage/usr/local/bin"
    cp -al "$pkgs/." "$stage/$SITE/"
    rm -f "$stage/$SITE/.done"
    if [ -d "$stage/$SITE/bin" ]; then                           # console scripts: the image's python3
        for f in "$stage/$SITE/bin"/*; do
            [ -f "$f" ] || continue
            if head -c 2 "$f" | grep -q '#!'; then
                sed '1s|^#!.*python.*$|#!/usr/bin/python3|' "$f" >"$stage/usr/local/bin/$(basename "$f")"
                chmod 755 "$stage/usr/local/bin/$(basename "$f")"
            fi
        done
        rm -rf "$stage/$SITE/bin"
    fi
    if [ -f "$HERE/servers-build.py" ]; then                     # stack extras (e.g. a small trained model)
        cp "$HERE/servers-build.py" "$stage/tmp/servers-build.py"
        if ! chroot "$stage" /usr/bin/python3 /tmp/servers-build.py "$stack" >"$CACHE/srv-extra-$stack.log" 2>&1; then
            log "build step for $stack failed:"; tail -n 15 "$CACHE/srv-extra-$stack.log"; rm -rf "$stage"; return 1
        fi
        rm -f "$stage/tmp/servers-build.py"
    fi
    log "importing $(image_of "$stack") ($(du -sh "$stage" 2>/dev/null | cut -f1))"
    if ! tar -C "$stage" -c . | docker import --change "LABEL mldoctor.srv.stamp=$(stamp_of "$stack")" \
            --change "LABEL mldoctor.srv.stack=$stack" --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
            --change 'ENV PYTHONUNBUFFERED=1' - "$(image_of "$stack")" >/dev/null; then
        log "import of $(image_of "$stack") failed"; rm -rf "$stage"; return 1
    fi
    rm -rf "$stage"
    log "$(image_of "$stack") built in $((SECONDS - started)) s"
}

build_preflight_venv() {  # `mldoctor preflight --python` on the real azmlinfsrv (tests/servers/test_preflight_real.py)
    local venv=$CACHE/srv-preflight-venv want="${REQS[azmlinfsrv]}"
    if [ "$(cat "$venv/.reqs" 2>/dev/null)" = "$want" ]; then log "preflight venv present"; return 0; fi
    rm -rf "$venv"
    # shellcheck disable=SC2086
    if python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check $want \
            >"$CACHE/srv-pip-preflight.log" 2>&1; then
        echo "$want" >"$venv/.reqs"; log "preflight venv built ($want)"
    else
        log "preflight venv failed, see $CACHE/srv-pip-preflight.log"; return 1
    fi
}

main() {
    local stacks=("$@") failed=() started=$SECONDS
    [ ${#stacks[@]} -gt 0 ] || stacks=("${ORDER[@]}")
    docker version --format '{{.Server.Version}}' >/dev/null 2>&1 || { log "no Docker engine answers"; failed=(engine); }
    if [ ${#failed[@]} -eq 0 ]; then
        mkdir -p "$CACHE"
        build_base "$BASE" || failed=(base)
    fi
    if [ ${#failed[@]} -eq 0 ]; then
        for stack in "${stacks[@]}"; do
            [ -n "${REQS[$stack]:-}" ] || { log "unknown stack $stack"; failed+=("$stack"); continue; }
            build_image "$stack" || failed+=("$stack")
        done
    fi
    [ ${#stacks[@]} -ne ${#ORDER[@]} ] || build_preflight_venv || failed+=(preflight-venv)
    log "done in $((SECONDS - started)) s${failed:+; FAILED: ${failed[*]}}"
    if [ ${#failed[@]} -gt 0 ] && [ "${CI:-}" = "true" ]; then exit 1; fi
    return 0
}

main "$@"
