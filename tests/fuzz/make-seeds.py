#!/usr/bin/env python3
"""Writes the hand-made seed inputs of tests/fuzz/corpus/<target>/ (run once, output is
committed; inputs the fuzzer found are kept beside them). Usage:
    tests/fuzz/make-seeds.py GUEST_ELF
GUEST_ELF is the built guest (build/share/vmmbench/guest/vmmbench-guest.elf): a stripped
copy and a truncated copy of it seed the elf target."""
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- elf: 2 bytes of RAM size (64 KiB units), then the image ----

def ram(mib):
    return struct.pack("<H", (mib << 4) - 1)


def workload_desc(name, params):
    out = name.encode().ljust(32, b"\0") + b"a workload".ljust(96, b"\0") + b"cycles".ljust(16, b"\0")
    out += struct.pack("<II", 8 | 1, len(params))
    for pname, d, lo, hi in params:
        out += pname.encode().ljust(16, b"\0") + b"help".ljust(64, b"\0") + struct.pack("<QQQ", d, lo, hi)
    out += b"\0" * (104 * (12 - len(params)))
    out += struct.pack("<QQ", 0x100000, 0)
    assert len(out) == 1416
    return out


def mini_elf(phoff=64, shoff_misalign=0, catalogue=None):
    """ET_EXEC x86-64 with one RWX PT_LOAD at 1 MiB, a .vmmb_workloads and .shstrtab."""
    code = b"\xf4" * 16
    cat = catalogue if catalogue is not None else workload_desc("nop", [("iters", 10, 1, 100)])
    shstr = b"\0.vmmb_workloads\0.shstrtab\0"
    body_off = 0x100
    seg = code + cat
    shstr_off = body_off + len(seg)
    shoff = (shstr_off + len(shstr) + 7) // 8 * 8 + shoff_misalign
    ph = struct.pack("<IIQQQQQQ", 1, 7, body_off, 0x100000, 0x100000, len(seg), len(seg) + 0x1000, 0x1000)
    eh = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8
    eh += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0x100000, phoff, shoff, 0, 64, 56, 1, 64, 3, 2)
    img = bytearray(max(shoff + 3 * 64, body_off + len(seg)))
    img[0:64] = eh
    img[phoff:phoff + 56] = ph
    img[body_off:body_off + len(seg)] = seg
    img[shstr_off:shstr_off + len(shstr)] = shstr
    sh = [struct.pack("<IIQQQQIIQQ", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
          struct.pack("<IIQQQQIIQQ", 1, 1, 2, 0x100000 + len(code), body_off + len(code), len(cat), 0, 0, 8, 0),
          struct.pack("<IIQQQQIIQQ", 17, 3, 0, 0, shstr_off, len(shstr), 0, 0, 1, 0)]
    for i, s in enumerate(sh):
        img[shoff + 64 * i:shoff + 64 * (i + 1)] = s
    return bytes(img)


def elf_seeds(guest):
    put("elf", "mini.elf", ram(4) + mini_elf())
    put("elf", "mini-two-workloads.elf", ram(2) + mini_elf(catalogue=workload_desc("a", []) +
                                                         workload_desc("b", [("n", 1, 0, 2)])))
    # The reported UBSan finding: program / section headers at offsets not 8-aligned.
    put("elf", "crash-misaligned-phoff.elf", ram(4) + mini_elf(phoff=0x81))
    put("elf", "crash-misaligned-shoff.elf", ram(4) + mini_elf(shoff_misalign=3))
    with tempfile.TemporaryDirectory() as t:
        stripped = os.path.join(t, "g.elf")
        subprocess.run(["strip", "--strip-all", "-o", stripped, guest], check=True)
        real = open(stripped, "rb").read()
    put("elf", "real-stripped.elf", ram(8) + real)
    put("elf", "real-truncated.elf", ram(8) + real[:4096])
    put("elf", "real-ram-too-small.elf", ram(1) + real)


# ---- results: 16-byte prologue (nr_vcpus, options, gpa), then the guest's bytes ----

def prologue(vcpus, opts, gpa):
    return struct.pack("<BBHIQ", vcpus, opts, 0, gpa, 0)


def rheader(status, n, reason=b""):
    return struct.pack("<QIIII", 0x544c5352424d4d56, 3, status, n, 80) + reason.ljust(128, b"\0")


def rec(kind, iters, cycles, batch=0, flags=0, vcpu=0, point=b""):
    return struct.pack("<IIIIQQ", kind, flags, batch, vcpu, iters, cycles) + point.ljust(48, b"\0")


# real-tlb and real-pio-user (not written here) are result areas captured from real runs:
# gdb stopped `vmm-min --workload tlb --param min=4096 --param max=65536` (and pio-user
# iters=50 batches=3) in results_collect_checked and dumped the header and records; the
# prologue puts them at GPA 0x1000 with tsc_khz known and no run parameters named.
def results_seeds():
    # What the exit-cost workloads report: warm-up, calibration then measured batches.
    recs = [rec(1, 1000, 21000, 0, 1), rec(1, 1000, 20000, 1), rec(2, 1000, 3600000, 1, 1),
            rec(2, 1000, 3500000, 2), rec(2, 1000, 3550000, 3)]
    put("results", "exit-cost", prologue(1, 1, 0x20000) + rheader(1, len(recs)) + b"".join(recs))
    # tlb: a sweep with points and info records, two vCPUs.
    recs = [rec(1, 4096, 8192), rec(5, 33554432, 0, 1), rec(5, 6291456, 0, 2)]
    for i, size in enumerate((4096, 65536, 1048576)):
        recs.append(rec(2, 100000, 400000 * (i + 1), i, 0, i % 2, b"size=%d" % size))
    put("results", "tlb-sweep", prologue(2, 1, 0x30000) + rheader(1, len(recs)) + b"".join(recs))
    # bw: bandwidth records; virtio: per-request latencies.
    recs = [rec(4, 1 << 26, 30000000, 0, 0, 0, b"kernel=copy threads=1"),
            rec(4, 1 << 26, 28000000, 1, 0, 0, b"kernel=triad threads=1")]
    put("results", "bandwidth", prologue(1, 1, 0x1000) + rheader(1, len(recs)) + b"".join(recs))
    recs = [rec(3, 1, 90000 + i, i) for i in range(8)]
    put("results", "req-latency", prologue(1, 0, 0x1000) + rheader(1, len(recs)) + b"".join(recs))
    put("results", "unsupported", prologue(1, 1, 0x1000) + rheader(2, 0, b"vmcall never returns"))
    put("results", "guest-error", prologue(1, 1, 0x1000) + rheader(3, 0, b"buffer too small"))
    # A point naming a run parameter (option bit 1: the run has size and iters).
    put("results", "point-names-param", prologue(1, 3, 0x1000) + rheader(1, 1) +
        rec(2, 10, 100, 0, 0, 0, b"size=1"))


# ---- virtqueue: mode byte, queue or register ops, then the start of guest RAM ----

NEXT, WRITE, INDIRECT = 1, 2, 4


def desc(addr, length, flags=0, nxt=0):
    return struct.pack("<QIHH", addr, length, flags, nxt)


def ram_image(parts, size=0x8000):
    """parts: {offset: bytes} laid into a zeroed RAM prefix."""
    img = bytearray(size)
    for off, b in parts.items():
        img[off:off + len(b)] = b
    return bytes(img).rstrip(b"\0")


def avail(heads, flags=0):
    return struct.pack("<HH", flags, len(heads)) + b"".join(struct.pack("<H", h) for h in heads)


def op(off, val, write=1, code=0):
    return struct.pack("<HBBI", off, code, write, val)


def driver_init(queues, features_lo=(1 << 28) | (1 << 29)):
    ops = [op(0x70, 1), op(0x70, 3), op(0x24, 1), op(0x20, 1), op(0x24, 0), op(0x20, features_lo),
           op(0x70, 11), op(0x70, 0, write=0)]
    for qi, (d, a, u) in enumerate(queues):
        ops += [op(0x30, qi), op(0x38, 16), op(0x80, d), op(0x90, a), op(0xa0, u), op(0x44, 1)]
    return ops + [op(0x70, 15)]


def device_seed(mode, ops, ram):
    return bytes([mode, len(ops)]) + b"".join(ops) + ram


def virtqueue_seeds():
    D, A, U = 0x1000, 0x2000, 0x3000
    # The split queue alone: a direct chain (read, write), an indirect one, a loop.
    q = struct.pack("<HBIIIB", 8, 3, D, A, U, 8)
    tab = desc(0x4000, 64, NEXT, 1) + desc(0x5000, 512, WRITE | NEXT, 2) + desc(0x6000, 1, WRITE)
    tab += desc(0x7000, 48, INDIRECT)
    ind = desc(0x4000, 16, NEXT, 1) + desc(0x5000, 16, WRITE | NEXT, 2) + desc(0x6000, 1, WRITE)
    put("virtqueue", "queue-chains", b"\0" + q + ram_image({D: tab, A: avail([0, 3]), 0x7000: ind}))
    loop = desc(0x4000, 8, NEXT, 1) + desc(0x4000, 8, NEXT, 0)
    put("virtqueue", "queue-loop", b"\0" + q + ram_image({D: loop, A: avail([0])}))
    # virtio-blk (null, then ram): a write, a read, a flush and a get-id request.
    reqs = {D: b"", A: avail([0, 3, 6, 9])}
    tab = b""
    for i, (t, sector) in enumerate(((1, 0), (0, 1), (4, 0), (8, 0))):
        hdr, data, st = 0x4000 + i * 0x800, 0x4100 + i * 0x800, 0x4700 + i * 0x800
        reqs[hdr] = struct.pack("<IIQ", t, 0, sector)
        tab += desc(hdr, 16, NEXT, 3 * i + 1)
        tab += desc(data, 512 if t != 8 else 20, NEXT | (WRITE if t in (0, 8) else 0), 3 * i + 2)
        tab += desc(st, 1, WRITE)
    reqs[D] = tab
    ops = driver_init([(D, A, U)]) + [op(0x50, 0), op(0x60, 0, write=0), op(0x64, 1),
                                      op(0x100, 0, write=0, code=3)]
    put("virtqueue", "blk-null-requests", device_seed(1, ops, ram_image(reqs)))
    put("virtqueue", "blk-ram-requests", device_seed(2, ops, ram_image(reqs)))
    # A second round: the driver posts one more chain (avail idx 5) and kicks again.
    more = ops + [op(0, (A + 2) << 16 | 5, code=7), op(0, (A + 4 + 8) << 16 | 0, code=7), op(0x50, 0)]
    put("virtqueue", "blk-ram-second-kick", device_seed(2, more, ram_image(reqs)))
    # virtio-net loop: rx buffers on queue 0, a frame sent on queue 1 comes back on 0.
    D2, A2, U2 = 0x1800, 0x2800, 0x3800
    net = {D: desc(0x4000, 1526, WRITE) + desc(0x4800, 1526, WRITE), A: avail([0, 1]),
           D2: desc(0x6000, 12, NEXT, 1) + desc(0x6100, 60), A2: avail([0]),
           0x6100: b"\xff" * 6 + b"\x52\x54\x00\x76\x6d\x62" + b"\x08\x00" + b"x" * 46}
    ops = driver_init([(D, A, U), (D2, A2, U2)], features_lo=(1 << 5) | (1 << 28) | (1 << 29))
    ops += [op(0x50, 0), op(0x50, 1), op(0x60, 0, write=0)]
    put("virtqueue", "net-loop-frame", device_seed(3, ops, ram_image(net)))
    # Hostile: a queue enabled before FEATURES_OK, odd-width register access, bad notify.
    ops = [op(0x70, 3), op(0x30, 0), op(0x38, 8), op(0x44, 1), op(0x71, 1, code=1), op(0x50, 7),
           op(0x70, 0)]
    put("virtqueue", "blk-setup-order", device_seed(1, ops, b""))


# ---- config: an INI file, NUL, a workload spec ----

def config_seeds():
    default = open(os.path.join(HERE, "..", "..", "harness", "configs", "default.ini"), "rb").read()
    put("config", "default-ini", default + b"\0pio-user")
    put("config", "default-ini-no-spec", default)
    put("config", "placement-all-keys", b"""[vm]
name = numa-2node
vcpus = 4
memory = 256M
pin = 0,2-3,1
vmm_pin = 1
backing = anonymous_thp
prefault = yes
guest_pages = 4k
vnuma = 0:128M@host0,1:128M@host1
\0numa-matrix:nodes=2,size=16M""")
    put("config", "pin-node-hugetlb", b"[vm]\nname=h\nvcpus=2\nmemory=1G\npin=node:1\n"
        b"backing=anonymous_thp\nnuma=bind:1\n\0tlb:min=4096,max=64M,stride=64")
    # Found by the round trip: describe printed vnuma sizes in whole MiB (1536K -> 1M).
    put("config", "crash-vnuma-describe-kib", b"[vm]\nname=k\nvcpus=1\nmemory=16M\n"
        b"vnuma=0:1536K@host0,1:14848K@host1\n\0layout")
    put("config", "devices", b"[vm]\nname=io\nvcpus=2\nmemory=64M\nblk = ram:1M\nnet = loop\n"
        b"notify = poll\npoll_us = 50\nio_cpu = 1\npin = scatter\n\0virtio-blk:size=4K,qd=8,op=1")
    put("config", "bad-duplicate-key", b"[vm]\nname=a\nname=b\n\0pio")
    put("config", "bad-section", b"[host]\nname=a\n")
    put("config", "bw-interleave", b"[vm]\nname=n\nvcpus=2\nmemory=512M\nnuma=interleave:0,1\n"
        b"pin=compact\n\0bw:array=1M,threads=2")


# ---- db: one byte that picks the command (fuzz_db.c's table), then a whole SQLite file.
# tests/fuzz/seeds/real-two-workloads.db comes from a real run:
#   vmmbench run null:iters=100,batches=3 pio-user:iters=50,batches=2 --reps 2 --db F --tag seed
# (schema version 2); every seed is derived from it here. Kept small so that each input
# costs little: 512-byte pages, a rollback journal (one seed keeps the WAL header) and
# the host's hwloc XML cut to its frame; the rows themselves are the real ones. ----

DB_COMMANDS = {"show": 0, "show-json": 1, "show-wide-all": 2, "compare": 3, "compare-json-batch": 4,
               "compare-plan": 5}


def c_string(source, name):
    """The SQL of the C string constant NAME in harness/db_schema.c (adjacent literals)."""
    import re
    body = re.search(r"const char %s\[\] =(.*?);\n" % name, source, re.S).group(1)
    return "".join(bytes(m, "ascii").decode("unicode_escape") for m in re.findall(r'"((?:[^"\\]|\\.)*)"', body))


def db_seeds():
    import shutil
    import sqlite3
    real = os.path.join(HERE, "seeds", "real-two-workloads.db")
    schema_c = open(os.path.join(HERE, "..", "..", "harness", "db_schema.c")).read()

    def make(name, commands, change=None, wal=False, cut=None):
        with tempfile.TemporaryDirectory() as t:
            f = os.path.join(t, "x.db")
            shutil.copy(real, f)
            c = sqlite3.connect(f, isolation_level=None)
            c.execute("pragma journal_mode=delete")
            c.execute("pragma page_size=512")
            c.execute("update hosts set topology_xml = substr(topology_xml, 1, "
                      "instr(topology_xml, '<topology') + 24) || '</topology>'")
            if change:
                change(c)
            c.execute("vacuum")
            if wal:
                c.execute("pragma journal_mode=wal")
            c.close()
            data = open(f, "rb").read()
        if cut:
            data = data[:cut]
        for cmd in commands:
            put("db", "%s.%s" % (name, cmd), bytes([DB_COMMANDS[cmd]]) + data)

    def failed_only(c):
        c.execute("delete from samples")
        c.execute("update runs set status = 'timeout', reason = 'guest overstayed'")

    def empty(c):
        for t in ("samples", "placement", "runs", "configs", "hosts"):
            c.execute("delete from %s" % t)

    def one_run(c):
        c.execute("delete from samples where run_id > 1")
        c.execute("delete from placement where run_id > 1")
        c.execute("delete from runs where id > 1")

    def version(v):
        return lambda c: c.execute("update schema_version set version = %d" % v)

    def v4(c):
        c.executescript(c_string(schema_c, "db_migrate_v2_to_v3") +
                        c_string(schema_c, "db_migrate_v3_to_v4"))

    def foreign(c):
        for t in ("samples", "placement", "runs", "configs", "hosts", "schema_version"):
            c.execute("drop table %s" % t)
        c.execute("create table runs(id integer primary key, x text)")
        c.execute("insert into runs(x) values ('not vmmbench')")

    make("real", list(DB_COMMANDS))
    make("real-v4", ["show", "compare"], change=v4)
    make("real-wal-header", ["show", "compare"], wal=True)
    make("real-truncated", ["show", "compare"], cut=2048)
    make("failed-runs-only", ["show", "show-json", "compare"], change=failed_only)
    make("no-rows", ["show", "show-json", "compare"], change=empty)
    make("one-run", ["show-wide-all", "compare", "compare-plan"], change=one_run)
    make("schema-version-99", ["show"], change=version(99))
    make("foreign-schema", ["show", "compare"], change=foreign)


# ---- bootinfo: a run request, allocations the guest makes, parameters ----

def bootinfo(wl, vcpus, mem_mib, gp, vnodes, allocs, params=b"", tsc=2500000):
    out = bytes([wl, vcpus - 1, mem_mib - 16, gp, len(vnodes)])
    for i in range(4):
        size, host = vnodes[i] if i < len(vnodes) else (0, 0)
        out += bytes([size // 2, host])
    out += struct.pack("<QB", tsc, len(allocs))
    for node, kib, align in allocs:
        out += bytes([node + 1]) + struct.pack("<I", kib)[:3] + bytes([align])
    return out + params


def bootinfo_seeds():
    # Workload indexes follow the guest catalogue: 0 layout, 3 bw, 5 numa-matrix, 6 tlb, 12 null.
    put("bootinfo", "null-defaults", bootinfo(12, 1, 64, 0, [], [(-1, 1024, 12)]))
    put("bootinfo", "tlb-params", bootinfo(6, 1, 64, 1, [], [(-1, 4096, 21), (-1, 64, 6)],
                                           b"min=4096,max=8M,stride=64"))
    put("bootinfo", "numa-matrix-two-nodes", bootinfo(5, 4, 64, 1, [(32, 0), (32, 1)],
        [(0, 8192, 12), (1, 8192, 12), (0, 1024, 6), (1, 30000, 21)], b"nodes=2"))
    put("bootinfo", "layout-three-nodes", bootinfo(0, 3, 48, 0, [(16, 0), (16, 1), (16, 0)],
        [(2, 1024, 12), (-1, 4, 0)]))
    put("bootinfo", "bw-4k-pages", bootinfo(3, 2, 64, 1, [], [(-1, 16384, 12)] * 3, b"array=1M,threads=2"))


if __name__ == "__main__":
    elf_seeds(sys.argv[1])
    results_seeds()
    virtqueue_seeds()
    config_seeds()
    db_seeds()
    bootinfo_seeds()
