#!/usr/bin/env python3
"""Summarises `perf script -F comm,ip,sym,dso` output of a cohort server (bench/profile.sh).

Prints the samples of each thread; then, for the busiest thread (the event loop under a client
load): the kernel's share, the user-space share of each Swift module (the module of the nearest
frame in the server's binary, so that runtime calls such as swift_retain count against the
code that made them), the user-space functions that way, and the inclusive share of the
server's own functions (Cohort* modules), which says what a request's path costs in all.
"""
import collections
import re
import shutil
import subprocess
import sys


def demangled(names):
    """Readable forms of Swift symbols, through the toolchain's swift-demangle when present."""
    tool = shutil.which("swift-demangle")
    if not tool or not names:
        return {name: name for name in names}
    result = subprocess.run([tool, "--simplified", "--compact"], input="\n".join(names),
                            capture_output=True, text=True)
    lines = result.stdout.split("\n")
    if result.returncode != 0 or len(lines) < len(names):
        return {name: name for name in names}
    return {name: f"{module(name)}: {line}" if name.startswith("$s") else line
            for name, line in zip(names, lines)}


def read_samples(path):
    samples = []
    thread, frames = None, None
    frame = re.compile(r"\s*[0-9a-f]+\s+(.*)\s+\((.*)\)$")
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        if not line.strip():
            if frames is not None:
                samples.append((thread, frames))
            thread, frames = None, None
            continue
        if line[0] in " \t":
            match = frame.match(line)
            if match and frames is not None:
                name = re.sub(r"\+0x[0-9a-f]+$", "", match.group(1))
                frames.append((name, match.group(2)))
        else:
            thread, frames = line.split()[0], []
    if frames is not None:
        samples.append((thread, frames))
    return samples


def module(symbol):
    """The Swift module of a mangled symbol ($s<length><module>...), "Swift" for the standard
    library's ($ss..., $sS...: its generic code specialized into the binary), else the name."""
    if symbol.startswith(("$ss", "$sS")):
        return "Swift"
    match = re.match(r"\$s(\d+)([A-Za-z_][A-Za-z0-9_]*)", symbol)
    if match:
        return match.group(2)[: int(match.group(1))]
    return symbol[:40]


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: profile_summary.py SCRIPT_OUTPUT BINARY_PATH [TOP]")
    samples = read_samples(sys.argv[1])
    binary = sys.argv[2]
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 25
    if not samples:
        sys.exit("no samples")
    threads = collections.Counter(thread for thread, _ in samples)
    print("samples by thread:")
    for thread, count in threads.most_common():
        print(f"  {100 * count / len(samples):6.2f}%  {thread}")
    busiest = threads.most_common(1)[0][0]
    loop = [frames for thread, frames in samples if thread == busiest and frames]
    total = len(loop)
    kernel = sum(1 for frames in loop if "kernel" in frames[0][1])
    print(f"\nthread {busiest}: {total} samples, {100 * kernel / total:.1f}% in the kernel, "
          f"{100 * (total - kernel) / total:.1f}% in user space")

    modules, functions, inclusive = collections.Counter(), collections.Counter(), collections.Counter()
    for frames in loop:
        for name in {name for name, dso in frames if dso == binary and name.startswith("$s")
                     and module(name).startswith("Cohort")}:
            inclusive[name] += 1
        if "kernel" in frames[0][1]:
            continue
        owner = next((name for name, dso in frames if dso == binary), frames[0][0])
        modules[module(owner)] += 1
        functions[owner] += 1
    print("\nuser-space samples by module (of the nearest frame in the server's binary), % of the thread:")
    for name, count in modules.most_common(12):
        print(f"  {100 * count / total:6.2f}%  {name}")
    listed_functions = functions.most_common(top)
    listed_inclusive = inclusive.most_common(top)
    names = demangled(sorted({name for name, _ in listed_functions + listed_inclusive}))
    print(f"\ntop {top} user-space functions (runtime calls counted against their caller), % of the thread:")
    for name, count in listed_functions:
        print(f"  {100 * count / total:6.2f}%  {names[name][:140]}")
    print(f"\ntop {top} Cohort functions, inclusive (callees and kernel time included), % of the thread:")
    for name, count in listed_inclusive:
        print(f"  {100 * count / total:6.2f}%  {names[name][:140]}")


if __name__ == "__main__":
    main()
