#!/usr/bin/env python3
"""Add lock entries for platform-specific optional packages the registry here cannot serve.

This workplace's npm registry only carries the linux-x64 builds of packages such as
@biomejs/cli-*, @rollup/rollup-* and @esbuild/*, so `npm install` cannot record the other
platforms' entries, and `npm ci` then refuses the lock file ("Missing: … from lock file").
Each missing package gets a stub entry (version, os, cpu, optional): npm ci sees the lock in
sync and skips the stubs on this platform. Run after `npm install` changes the lock:

    npm ci --ignore-scripts 2>&1 | grep -o 'Missing: [^ ]*' | sed 's/Missing: //; s/@$//' \
      | python3 scripts/lockfile-platform-stubs.py
"""
import json
import re
import sys

LOCK = 'package-lock.json'
lock = json.load(open(LOCK))
packages = lock['packages']
for name in (line.strip() for line in sys.stdin if line.strip()):
    key = f'node_modules/{name}'
    parent = next((e for e in packages.values() if name in e.get('optionalDependencies', {})), None)
    if key in packages or parent is None:
        continue
    entry = {'version': parent['optionalDependencies'][name].lstrip('^~='), 'optional': True}
    if parent.get('dev'):
        entry['dev'] = True
    if os_match := re.search(r'(android|darwin|linux|win32|freebsd|openbsd|netbsd|sunos|aix|openharmony)', name):
        entry['os'] = [os_match.group(1)]
    if cpu := re.search(r'(arm64|x64|ia32|arm|loong64|ppc64|riscv64|s390x)', name.split('/')[-1]):
        entry['cpu'] = [cpu.group(1)]
    packages[key] = entry
lock['packages'] = dict(sorted(packages.items(), key=lambda kv: (kv[0] != '', kv[0])))
with open(LOCK, 'w') as out:
    json.dump(lock, out, indent=2)
    out.write('\n')
