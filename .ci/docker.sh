#!/usr/bin/env bash
# Prepares a local Docker engine and the test images for the Docker scenario tests.
# Idempotent; run as root. Exits non-zero when no engine can be started or a test image cannot be built
# (the Docker tests need both; in CI they fail rather than skip without them).
set -u

log() { echo "[docker.sh] $*"; }
PY_IMAGE=mldoctor-test-py:1
BB_IMAGE=mldoctor-test-busybox:1
CACHE=/var/cache/mldoctor
ROOTFS=$CACHE/bookworm-rootfs

install_packages() {
    local missing=()
    { command -v dockerd && command -v docker; } >/dev/null || missing+=(docker.io)
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    static_busybox >/dev/null || missing+=(busybox-static)
    if [ ${#missing[@]} -eq 0 ]; then log "packages present"; return 0; fi
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || log "apt-get update failed"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || log "apt-get install failed"
}

# A statically linked busybox (it must run alone inside an empty image).
static_busybox() {
    local bb
    for bb in /bin/busybox /usr/bin/busybox; do
        if [ -x "$bb" ] && ! ldd "$bb" >/dev/null 2>&1; then echo "$bb"; return 0; fi
    done
    return 1
}

engine_up() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

start_engine() {
    if engine_up; then log "engine already answering"; return 0; fi
    command -v dockerd >/dev/null || { log "dockerd not installed"; return 1; }
    log "starting dockerd (log: /tmp/dockerd.log)"
    nohup dockerd --iptables=false --bridge=none --storage-driver=vfs >/tmp/dockerd.log 2>&1 &
    for _ in $(seq 1 60); do
        if engine_up; then log "engine up: $(docker version --format '{{.Server.Version}}')"; return 0; fi
        sleep 1
    done
    log "dockerd did not answer within 60 s; tail of /tmp/dockerd.log:"
    tail -n 20 /tmp/dockerd.log
    return 1
}

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

build_py_image() {
    if have_image "$PY_IMAGE"; then log "$PY_IMAGE present"; return 0; fi
    mkdir -p "$CACHE"
    if [ ! -x "$ROOTFS/usr/bin/gunicorn" ]; then
        log "debootstrap bookworm into $ROOTFS (about a minute)"
        rm -rf "$ROOTFS"
        if ! debootstrap --variant=minbase --include=python3,gunicorn,python3-flask bookworm "$ROOTFS" \
                >"$CACHE/debootstrap.log" 2>&1; then
            log "debootstrap failed, see $CACHE/debootstrap.log"
            tail -n 20 "$CACHE/debootstrap.log"
            return 1
        fi
    else
        log "reusing cached rootfs $ROOTFS"
    fi
    # Smaller image, faster container create/remove on the vfs driver (each container is a full copy).
    rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* \
           "$ROOTFS"/usr/share/{doc,locale,man,info}/*
    log "importing $PY_IMAGE"
    if tar -C "$ROOTFS" -c . | docker import - "$PY_IMAGE" >/dev/null; then
        log "$PY_IMAGE built ($(du -sh "$ROOTFS" | cut -f1))"
    else
        log "import of $PY_IMAGE failed"
        return 1
    fi
}

build_busybox_image() {
    if have_image "$BB_IMAGE"; then log "$BB_IMAGE present"; return 0; fi
    local bb dir
    bb=$(static_busybox) || { log "no static busybox: cannot build $BB_IMAGE"; return 1; }
    dir=$(mktemp -d)
    mkdir -p "$dir/bin" "$dir/tmp"
    cp "$bb" "$dir/bin/busybox"
    for app in sh echo cat sleep yes head seq true; do ln -s busybox "$dir/bin/$app"; done
    local ok=0
    tar -C "$dir" -c . | docker import --change 'ENV PATH=/bin' - "$BB_IMAGE" >/dev/null || ok=1
    rm -rf "$dir"
    if [ $ok -eq 0 ]; then log "$BB_IMAGE built"; else log "import of $BB_IMAGE failed"; fi
    return $ok
}

install_packages
start_engine || exit 1
failed=0
build_busybox_image || failed=1
build_py_image || failed=1
have_image "$BB_IMAGE" && have_image "$PY_IMAGE" || failed=1
if [ $failed -ne 0 ]; then log "FAILED: a test image could not be built (see above)"; exit 1; fi
log "done"
