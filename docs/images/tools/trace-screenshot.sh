#!/bin/sh
# Re-makes docs/images/trace-viewer.png: an mmuemu Chrome trace rendered by Catapult's trace
# viewer (trace2html, the chrome://tracing viewer) in headless Chromium.
#
# Needs: Debian's chromium, python3 with websocket-client (pip), and a checkout of
# catapult-project/catapult (its tracing/, common/ and third_party/ folders) at $CATAPULT.
# Perfetto UI itself needs network access to ui.perfetto.dev, which the machine that made the
# picture does not have; Perfetto opens the same file.
set -e
: "${CATAPULT:?set CATAPULT to a catapult checkout}"
top=$(cd "$(dirname "$0")/../../.." && pwd)
work=$(mktemp -d)
(cd "$top" && ./mmuemu run --machine x86-skylake --workload munmap-storm \
    --param threads=4 --param iterations=20 \
    --trace "$work/munmap.json" --trace-format chrome --quiet)
python3 "$CATAPULT/tracing/bin/trace2html" "$work/munmap.json" --output "$work/munmap.html"
python3 "$top/docs/images/tools/cdp_shot.py" "$work/munmap.html" "$top/docs/images/trace-viewer.png" \
    --trace "$work/munmap.json" --start 170.3 --end 175.0 --height 840 \
    --select flush_tlb_range@170.717
