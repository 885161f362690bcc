#!/usr/bin/env bash
# Re-make the README's TensorBoard screenshots (docs/tensorboard_*.png).
#
#   scripts/tensorboard_screenshots.sh [OUT_DIR]      (default: docs)
#
# Trains a quick digits_cnn recipe and runs a 4-trial quick tuning search
# (about a minute on a laptop CPU), serves each log folder with a local
# `tensorboard` on 127.0.0.1, and photographs the dashboards a user opens
# with Debian's headless Chromium (`apt-get install chromium`):
#   tensorboard_scalars.png  the digits run's gradient norms, layers overlaid
#                            (Custom Scalars tab)
#   tensorboard_images.png   the digits run's confusion matrix (Images tab)
#   tensorboard_hparams.png  the search's HParams table
# Nothing leaves the machine; the logs go to a temporary folder.
source "$(dirname "$0")/env.sh"

out=${1:-docs}
mkdir -p "$out"
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
    echo "needs Chromium: apt-get update && apt-get install -y chromium" >&2
    exit 1
fi
work=$(mktemp -d)
tb_pid=""
cleanup() {
    if [ -n "$tb_pid" ]; then kill "$tb_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
py="$VENV/bin/python"

echo "training the quick digits recipe..." >&2
"$py" -m recipes run digits_cnn --quick --epochs 12 --seed 0 --log-dir "$work/digits" >/dev/null
echo "running a 4-trial quick search..." >&2
"$py" -m recipes tune mlp.baseline --strategy random --max-trials 4 --quick --epochs 4 \
    --seed 4 --prune --prune-warmup 1 --prune-min-trials 2 --no-default-space \
    --space learning_rate=1e-5:1e-1:log --space optimizer=adam,sgd \
    --space width=16,32,64 --space depth=1:3 \
    --log-dir "$work/tuning" --project-name quick >/dev/null

free_port() {
    "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# serve LOGDIR: start tensorboard, wait until it answers; sets $url.
serve() {
    if [ -n "$tb_pid" ]; then kill "$tb_pid" 2>/dev/null || true; wait "$tb_pid" 2>/dev/null || true; fi
    local port
    port=$(free_port)
    url="http://127.0.0.1:$port"
    CUDA_VISIBLE_DEVICES="" "$VENV/bin/tensorboard" --logdir "$1" --host 127.0.0.1 \
        --port "$port" --load_fast=false >"$work/tensorboard.log" 2>&1 &
    tb_pid=$!
    for _ in $(seq 120); do
        if "$py" - "$url" <<'EOF' 2>/dev/null; then break; fi
import sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
opener.open(sys.argv[1] + "/data/runs", timeout=2)
EOF
        sleep 0.5
    done
    sleep 2  # let the first load of the event files finish
}

# shot NAME URL [WIDTH,HEIGHT]: a PNG of URL as $out/NAME, shrunk to a palette.
shot() {
    local profile
    profile=$(mktemp -d -p "$work")
    "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --hide-scrollbars --user-data-dir="$profile" --window-size="${3:-1400,900}" \
        --virtual-time-budget=15000 --screenshot="$out/$1" "$2" >/dev/null 2>&1
    "$py" - "$out/$1" <<'EOF'
import sys
from PIL import Image
path = sys.argv[1]
Image.open(path).convert("RGB").quantize(colors=128).save(path, optimize=True)
EOF
    echo "$out/$1 ($(du -k "$out/$1" | cut -f1) KB)" >&2
}

serve "$work/digits/tensorboard"
shot tensorboard_scalars.png "$url/#custom_scalars"
shot tensorboard_images.png "$url/#images&tagFilter=confusion"
serve "$work/tuning/quick/tensorboard"
shot tensorboard_hparams.png "$url/#hparams" 1600,700
