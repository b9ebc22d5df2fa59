#!/usr/bin/env bash
# Footprint of the device C library (device/) at -Os: code bytes, worst
# stack depth and heap use, for x86-64 (gcc) and for a Cortex-M4 (Debian's
# gcc-arm-none-eabi; skipped with a message when it is not installed).
#
# For each target it reports:
#   - `size` text of the whole library (codec.o + client.o);
#   - text of a minimal image that only encodes a CRC-32 register request
#     and decodes answers, linked with --gc-sections: the BENCHMARKS.md
#     goal (<= 8 KB on the Cortex-M4). On ARM the image's text includes
#     newlib-nano's memcpy/memset and the startup stub; that is, it is an
#     upper bound for the library's share;
#   - the deepest stack of any call chain into the library, from GCC's
#     -fcallgraph-info=su (frames summed along the chain; the caller's send,
#     event and crypto hooks are indirect calls and not counted), and the
#     largest single frames from -fstack-usage (.su files);
#   - heap: every undefined symbol of the objects (must be memcpy/memset
#     only; malloc, free and friends must not appear).
# Usage: bench/device_footprint.sh   (takes a few seconds)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The minimal device: a CRC-32 register request and the answer decoder.
cat >"$work/register_only.c" <<'EOF'
#include "crsp_device.h"
static uint8_t packet[CRSP_MAX_ANSWER];
static crsp_answer answer;
static crsp_resource_set set;
static crsp_resource_entry entry;
volatile size_t sink;
int main(void) {
  sink = crsp_encode_register(packet, sizeof packet, 1, CRSP_CHECK_CRC32,
                              0, &set, &entry, 1);
  sink += crsp_decode_answer(packet, sink, 0, &answer);
  return 0;
}
EOF

# Deepest chain of stack frames in the .ci files given (VCG graphs).
max_stack() {
  python3 - "$@" <<'EOF'
import re, sys
frame, calls = {}, {}
for path in sys.argv[1:]:
    text = open(path).read()
    for title, label in re.findall(r'node: \{ title: "([^"]+)" label: "([^"]*)"', text):
        m = re.search(r'(\d+) bytes', label)
        frame[title] = int(m.group(1)) if m else 0
    for src, dst in re.findall(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"', text):
        calls.setdefault(src, []).append(dst)
def depth(f, seen=()):
    if f in seen: return 0  # no recursion in the library; guard anyway
    return frame.get(f, 0) + max([depth(g, seen + (f,)) for g in calls.get(f, [])] or [0])
best = max(frame, key=lambda f: depth(f))
print(depth(best), best.split(':')[-1])
EOF
}

report() {  # name cc size nm cflags...
  local name=$1 cc=$2 size=$3 nm=$4
  shift 4
  local out="$work/$name"
  mkdir -p "$out"
  for src in codec client; do
    "$cc" -std=c99 -Os -ffunction-sections -fdata-sections \
      -fstack-usage -fcallgraph-info=su -I"$root/device/include" "$@" \
      -c "$root/device/src/$src.c" -o "$out/$src.o" -dumpdir "$out/"
  done
  local lib_text
  lib_text=$("$size" "$out/codec.o" "$out/client.o" |
    awk 'NR > 1 { t += $1 } END { print t }')
  echo "$name: library text (codec.o + client.o): $lib_text bytes"
  "$size" "$out/codec.o" "$out/client.o" | sed 's/^/  /'

  "$cc" -std=c99 -Os -ffunction-sections -fdata-sections \
    -I"$root/device/include" "$@" -c "$work/register_only.c" \
    -o "$out/main.o"
  local link=(-Wl,--gc-sections)
  [[ $name == cortex-m4 ]] &&
    link+=(--specs=nano.specs --specs=nosys.specs -nostartfiles -Wl,-e,main)
  "$cc" "$@" "${link[@]}" "$out/main.o" "$out/codec.o" "$out/client.o" \
    -o "$out/register_only.elf"
  echo "$name: minimal CRC-32 register + answer decoding image:"
  "$size" "$out/register_only.elf" | sed 's/^/  /'

  read -r stack deepest < <(max_stack "$out"/codec.ci "$out"/client.ci)
  echo "$name: deepest stack: $stack bytes (from $deepest)"
  echo "$name: largest frames (.su):"
  cat "$out"/codec.su "$out"/client.su | sort -t$'\t' -k2 -n -r | head -n 3 |
    sed 's/^[^:]*:[0-9]*:[0-9]*:/  /'

  local undefined
  undefined=$("$nm" -u "$out/codec.o" "$out/client.o" |
    awk 'NF == 2 && $2 !~ /^crsp_/ { print $2 }' | sort -u | tr '\n' ' ')
  echo "$name: undefined symbols (heap: none allowed): $undefined"
  if grep -qwE 'malloc|calloc|realloc|free' <<<"$undefined"; then
    echo "$name: FAIL: the library references the heap" >&2
    return 1
  fi
}

report x86-64 gcc size nm
if command -v arm-none-eabi-gcc >/dev/null; then
  report cortex-m4 arm-none-eabi-gcc arm-none-eabi-size arm-none-eabi-nm \
    -mcpu=cortex-m4 -mthumb
else
  echo "cortex-m4: skipped: arm-none-eabi-gcc not installed" \
    "(apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)"
fi
