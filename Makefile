# vmmbench: `make run` measures, `make test` checks, `make bench` holds the speed targets.
# Sources are found by directory, so adding a file needs no change here.

BUILD    ?= build
PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
SHELL    := /bin/bash
# Every CPU builds, unless a -j was given: `make test` from a fresh clone builds three
# trees (plain, ASan+UBSan, fuzz) before it tests, most of its time on 2 cores.
ifeq ($(filter -j% j%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 1)
endif

# The build tree mirrors an installed tree (bin/, share/vmmbench/), so the binaries
# find their guest kernels and configs the same way in both.
BIN      := $(BUILD)/bin
SHARE    := $(BUILD)/share/vmmbench
DEPS_OK  := $(BUILD)/.deps-ok

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2
HOST_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g $(WARN) -MMD -MP \
               -Ivmm-min/include -Ivmm-min/lib -Iharness -Ianalysis -I$(BUILD)/gen -Iguest-kernels/include
SAN_FLAGS   := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_CFLAGS  := $(HOST_CFLAGS) $(SAN_FLAGS)
HOST_LIBS   := -lsqlite3 -linih -lhwloc -lnuma -lpthread -lm
# Statistics (random variates for the bootstrap) come from GSL.
HOST_LIBS   += -lgsl -lgslcblas
# Host PMU counters are encoded by libpfm4.
HOST_LIBS   += -lpfm

# Guest code is freestanding: no libc, no PIC, no red zone (interrupts share the kernel
# stack), no stack protector (no TLS in the guest). No SSE either: code that may run at
# CPL0 is emulated instruction by instruction on PVM hosts, and that emulator fails on
# vector instructions (KVM_EXIT_INTERNAL_ERROR), so the compiler must not vectorise it.
GUEST_CFLAGS := -std=c11 -O2 -g $(WARN) -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
                -mgeneral-regs-only \
                -mno-red-zone -fno-asynchronous-unwind-tables -fcf-protection=none \
                -fno-builtin -nostdinc -isystem $(shell $(CC) -print-file-name=include) \
                -Iguest-kernels/include -Ivmm-min/include -MMD -MP
# Memory workloads (workloads/memory/) run in ring 3 only (they refuse ring=0) and may use
# SSE: vector code is fine at CPL3, only the CPL0 emulator of PVM hosts fails on it.
MEM_GUEST_CFLAGS := $(filter-out -mgeneral-regs-only,$(GUEST_CFLAGS)) -msse2
# The same workload sources built a second time for the host (native runs: the same code,
# buffer sizes and pinning as in the guest), with the portable part of the guest runtime
# and against the host shim in vmm-min/lib/measure/native_run.c.
NATIVE_CFLAGS := -std=c11 -D_GNU_SOURCE -DVMMB_NATIVE -O2 -g $(WARN) -MMD -MP -msse2 \
                 -fno-builtin -Iguest-kernels/include -Ivmm-min/include
# One RWX load segment on purpose: the VMM maps all guest RAM writable and executable
# with 2 MiB pages, so finer ELF permissions would promise a protection nobody enforces.
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,-T,guest-kernels/kernel/guest.ld \
                 -Wl,--build-id=none -Wl,-z,max-page-size=4096 -Wl,-z,noexecstack \
                 -Wl,--no-warn-rwx-segments

# vmm-min/lib: the lifecycle on top (vmm_run.c, vm_build.c, plan.c), concern folders below.
VMM_SRCS      := $(wildcard vmm-min/lib/*.c vmm-min/lib/*/*.c vmm-min/lib/*/*/*.c)
HARNESS_SRCS  := $(wildcard harness/*.c) $(wildcard analysis/*.c)
VMMBENCH_SRCS := $(wildcard harness/cli/*.c)
VMMMIN_SRCS   := $(wildcard vmm-min/cli/*.c)
KERNEL_SRCS   := $(wildcard guest-kernels/kernel/*.c guest-kernels/kernel/*.S)
WORKLOAD_SRCS := $(wildcard workloads/*/*.c)
HOSTILE_SRCS  := $(wildcard tests/guests/*.c)
UNIT_TESTS    := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
INTEG_TESTS   := $(patsubst tests/integration/%.c,%,$(wildcard tests/integration/test_*.c))
BENCH_SRCS    := $(wildcard tests/bench/*.c)
# kvs-io's native twin reaches vmm-min's virtio-blk backends directly (wl_native_blk).
NATIVE_SRCS   := $(wildcard workloads/memory/*.c workloads/macro/*.c) \
                 guest-kernels/kernel/wl_common.c \
                 guest-kernels/kernel/wl_mem.c guest-kernels/kernel/smp.c

obj = $(patsubst %,$(BUILD)/$(1)/%.o,$(basename $(2)))

VMM_OBJS      := $(call obj,host,$(VMM_SRCS))
HARNESS_OBJS  := $(call obj,host,$(HARNESS_SRCS))
SAN_LIB_OBJS  := $(call obj,asan,$(VMM_SRCS) $(HARNESS_SRCS))
KERNEL_OBJS   := $(call obj,guest,$(KERNEL_SRCS))
WORKLOAD_OBJS := $(call obj,guest,$(WORKLOAD_SRCS))
HOSTILE_OBJS  := $(call obj,guest,$(HOSTILE_SRCS))
NATIVE_OBJS   := $(call obj,native,$(NATIVE_SRCS))
NATIVE_A      := $(BUILD)/lib/libnative.a
# Every host program links all native workloads (found by their ELF section), ahead of the
# libraries that hold their shim.
NATIVE_LINK   := -Wl,--whole-archive $(NATIVE_A) -Wl,--no-whole-archive

GUESTS   := $(SHARE)/guest/vmmbench-guest.elf
# QEMU's -bios for hypervisor = qemu-microvm: real mode to vmm-min's 64-bit entry state.
QEMU_STUB := $(SHARE)/qemu/vmmb-reset.bin
TEST_GUESTS := $(BUILD)/tests/guest/hostile-guest.elf
CONFIGS  := $(patsubst harness/configs/%,$(SHARE)/configs/%,$(wildcard harness/configs/*.ini))
# `vmmbench lab`'s launcher, the lab's init and what runs inside (harness/lab/).
LAB_FILES := $(patsubst harness/lab/%,$(SHARE)/lab/%,$(wildcard harness/lab/*))
PROGRAMS := $(BIN)/vmmbench $(BIN)/vmm-min
UNIT_BINS := $(UNIT_TESTS:%=$(BUILD)/tests/unit/%) $(UNIT_TESTS:%=$(BUILD)/asan/tests/unit/%)
INTEG_BINS := $(INTEG_TESTS:%=$(BUILD)/tests/integration/%)

# The sanitized tree (ASan+UBSan): everything host-side built again under build/asan/,
# the native workload library included, laid out like the build tree (bin/, share/,
# tests/guest/) so BUILD=build/asan runs the shell tests against it. make test runs the
# unit and integration C tests from it and tests/integration/test_sanitized.sh runs its
# CLIs over the hostile-guest and virtio tests.
SAN        := $(BUILD)/asan
SAN_NATIVE_A := $(SAN)/lib/libnative.a
SAN_NATIVE_LINK := -Wl,--whole-archive $(SAN_NATIVE_A) -Wl,--no-whole-archive
SAN_PROGRAMS := $(SAN)/bin/vmmbench $(SAN)/bin/vmm-min
SAN_INTEG_BINS := $(INTEG_TESTS:%=$(SAN)/tests/integration/%)
SAN_SHARE := $(patsubst $(BUILD)/%,$(SAN)/%,$(GUESTS) $(QEMU_STUB) $(CONFIGS) $(TEST_GUESTS))
SAN_TREE  := $(SAN_PROGRAMS) $(SAN_INTEG_BINS) $(SAN_SHARE)
BENCH_BINS := $(patsubst tests/bench/%.c,$(BUILD)/tests/bench/%,$(BENCH_SRCS))

.PHONY: all deps run test test-lab bench mutate install clean
.DEFAULT_GOAL := all

all: $(DEPS_OK) $(PROGRAMS) $(GUESTS) $(QEMU_STUB) $(CONFIGS) $(LAB_FILES)

# Every target that compiles or runs something needs the Debian packages first.
deps: $(DEPS_OK)
$(DEPS_OK): mk/ensure-deps.sh
	@./mk/ensure-deps.sh
	@mkdir -p $(@D) && touch $@

# The quick suite in guests, or without /dev/kvm the host-native memory workloads.
run: all
	@BUILD=$(BUILD) mk/run.sh

test: all $(UNIT_BINS) $(INTEG_BINS) $(TEST_GUESTS) $(SAN_TREE) $(BUILD)/tests/bench/make_history_db
	@BUILD=$(BUILD) tests/run-all.sh

# The two-node NUMA / SVM lab under QEMU (tests/lab); `make test` runs it too.
test-lab: all
	@BUILD=$(BUILD) tests/lab/run-lab.sh

# One-line mutants against the fast tests (tests/mutation): the kill rate and survivors.
mutate: all
	@tests/mutation/run-mutants.sh

bench: all $(BENCH_BINS)
	@BUILD=$(BUILD) tests/bench/run-bench.sh

# The suite's git revision is recorded with every host; regenerate the header only when
# it changes so builds stay incremental.
VERSION_H := $(BUILD)/gen/vmmb_version.h
GIT_REV := $(shell git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
$(VERSION_H): FORCE
	@mkdir -p $(@D)
	@echo '#define VMMB_GIT_REV "$(GIT_REV)"' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
FORCE:

$(BUILD)/host/%.o: %.c Makefile $(DEPS_OK) | $(VERSION_H)
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -c $< -o $@
$(BUILD)/asan/%.o: %.c Makefile $(DEPS_OK) | $(VERSION_H)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) -c $< -o $@
$(BUILD)/guest/%.o: %.c Makefile $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -c $< -o $@
$(BUILD)/guest/workloads/memory/%.o: workloads/memory/%.c Makefile $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(MEM_GUEST_CFLAGS) -c $< -o $@
# The macro workloads (workloads/macro/) are ring-3 SSE code too (DGEMM, Zipf in doubles).
# Their hot loops start on 64-byte boundaries in both builds: where a loop falls relative
# to the front end's 32/64-byte windows moved the same DGEMM by 1.6x between two builds of
# one source on this project's Xeon host (1.25 against 2.0 GFLOP/s, either build run
# natively), which guest/native would have reported as virtualization.
MACRO_ALIGN := -falign-loops=64
$(BUILD)/guest/workloads/macro/%.o: workloads/macro/%.c Makefile $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(MEM_GUEST_CFLAGS) $(MACRO_ALIGN) -c $< -o $@
$(BUILD)/native/workloads/macro/%.o: NATIVE_CFLAGS += $(MACRO_ALIGN)
$(BUILD)/native/%.o: %.c Makefile $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(NATIVE_CFLAGS) -c $< -o $@
$(SAN)/native/%.o: %.c Makefile $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(NATIVE_CFLAGS) $(SAN_FLAGS) -c $< -o $@
$(BUILD)/guest/%.o: %.S Makefile $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -c $< -o $@

# Archives are made anew: a source moved or removed must not leave its object behind.
$(BUILD)/lib/libvmm.a: $(VMM_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^
$(NATIVE_A): $(NATIVE_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^
$(BUILD)/lib/libharness.a: $(HARNESS_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^
$(BUILD)/asan/lib/libsan.a: $(SAN_LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^
$(SAN_NATIVE_A): $(call obj,asan/native,$(NATIVE_SRCS))
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

LIBS := $(BUILD)/lib/libharness.a $(BUILD)/lib/libvmm.a

$(BIN)/vmmbench: $(call obj,host,$(VMMBENCH_SRCS)) $(LIBS) $(NATIVE_A)
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -o $@ $(filter %.o,$^) $(NATIVE_LINK) $(LIBS) $(HOST_LIBS)
$(BIN)/vmm-min: $(call obj,host,$(VMMMIN_SRCS)) $(LIBS) $(NATIVE_A)
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -o $@ $(filter %.o,$^) $(NATIVE_LINK) $(LIBS) $(HOST_LIBS)

$(SHARE)/guest/vmmbench-guest.elf: $(KERNEL_OBJS) $(WORKLOAD_OBJS) guest-kernels/kernel/guest.ld
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -o $@ $(KERNEL_OBJS) $(WORKLOAD_OBJS)
$(QEMU_STUB): vmm-min/lib/qemu/reset_stub.S vmm-min/lib/qemu/reset_stub.h Makefile
	@mkdir -p $(@D) $(BUILD)/qemu
	$(CC) -c -Ivmm-min/lib/qemu -o $(BUILD)/qemu/reset_stub.o $<
	$(LD) -m elf_x86_64 -Ttext=0 -e 0 -o $(BUILD)/qemu/reset_stub.elf $(BUILD)/qemu/reset_stub.o
	objcopy -O binary -j .text $(BUILD)/qemu/reset_stub.elf $@
	@test $$(stat -c %s $@) -eq 65536 || { echo "$@ is not 64 KiB" >&2; rm -f $@; exit 1; }
$(TEST_GUESTS): $(KERNEL_OBJS) $(HOSTILE_OBJS) guest-kernels/kernel/guest.ld
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -o $@ $(KERNEL_OBJS) $(HOSTILE_OBJS)

$(SHARE)/configs/%.ini: harness/configs/%.ini
	@mkdir -p $(@D)
	cp $< $@
$(SHARE)/lab/%: harness/lab/%
	@mkdir -p $(@D)
	cp $< $@

$(BUILD)/tests/unit/%: tests/unit/%.c $(LIBS) $(NATIVE_A) $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -o $@ $< $(NATIVE_LINK) $(LIBS) $(HOST_LIBS) -lcmocka
$(BUILD)/asan/tests/unit/%: tests/unit/%.c $(BUILD)/asan/lib/libsan.a $(SAN_NATIVE_A) $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) -o $@ $< $(SAN_NATIVE_LINK) $(BUILD)/asan/lib/libsan.a $(HOST_LIBS) -lcmocka
$(SAN)/tests/integration/%: tests/integration/%.c $(SAN)/lib/libsan.a $(SAN_NATIVE_A) $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) -o $@ $< $(SAN_NATIVE_LINK) $(SAN)/lib/libsan.a $(HOST_LIBS) -lcmocka
$(SAN)/bin/vmmbench: $(call obj,asan,$(VMMBENCH_SRCS)) $(SAN)/lib/libsan.a $(SAN_NATIVE_A)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) -o $@ $(filter %.o,$^) $(SAN_NATIVE_LINK) $(SAN)/lib/libsan.a $(HOST_LIBS)
$(SAN)/bin/vmm-min: $(call obj,asan,$(VMMMIN_SRCS)) $(SAN)/lib/libsan.a $(SAN_NATIVE_A)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) -o $@ $(filter %.o,$^) $(SAN_NATIVE_LINK) $(SAN)/lib/libsan.a $(HOST_LIBS)
# Copies, not links: tests copy the tree for another user (tests/lib.sh other_user_tree).
$(SAN)/share/%: $(BUILD)/share/%
	@mkdir -p $(@D)
	cp $< $@
$(SAN)/tests/guest/%: $(BUILD)/tests/guest/%
	@mkdir -p $(@D)
	cp $< $@
$(BUILD)/tests/integration/%: tests/integration/%.c $(LIBS) $(NATIVE_A) $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -o $@ $< $(NATIVE_LINK) $(LIBS) $(HOST_LIBS) -lcmocka
$(BUILD)/tests/bench/%: tests/bench/%.c $(LIBS) $(NATIVE_A) $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -o $@ $< $(NATIVE_LINK) $(LIBS) $(HOST_LIBS)

# ---- Fuzzing (tests/fuzz): libFuzzer targets built with clang over the real library
# sources, compiled a second time into $(BUILD)/fuzz with coverage and ASan+UBSan.
# `make fuzz` runs every target FUZZ_SECONDS each; `make test` replays each corpus and
# runs a short session (tests/fuzz/run-fuzz.sh, called from tests/run-all.sh).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 600
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -O1 -g $(WARN) -MMD -MP -Ivmm-min/include -Ivmm-min/lib \
                -Iharness -Iharness/cli -Ianalysis -I$(BUILD)/gen -Iguest-kernels/include $(FUZZ_SAN) \
                -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FUZZ_LIB_SRCS := $(VMM_SRCS) $(HARNESS_SRCS)
FUZZ_CLI_SRCS := $(filter-out harness/cli/vmmbench.c,$(VMMBENCH_SRCS))
FUZZ_LIB_A   := $(BUILD)/fuzz/lib/libfuzzlib.a
FUZZ_CLI_A   := $(BUILD)/fuzz/lib/libfuzzcli.a
# The native workload build (guest runtime incl. the boot-info readers wl_common.c and
# wl_mem.c, which the bootinfo target drives) instrumented too, linked whole as usual.
FUZZ_NATIVE_A := $(BUILD)/fuzz/lib/libfuzznative.a
FUZZ_NATIVE_LINK := -Wl,--whole-archive $(FUZZ_NATIVE_A) -Wl,--no-whole-archive

.PHONY: fuzz fuzz-build
fuzz-build: $(DEPS_OK) $(FUZZ_BINS) $(GUESTS)
fuzz: fuzz-build
	@BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run-fuzz.sh long
test: fuzz-build

$(BUILD)/fuzz/obj/%.o: %.c Makefile $(DEPS_OK) | $(VERSION_H)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
$(BUILD)/fuzz/native/%.o: %.c Makefile $(DEPS_OK)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -DVMMB_NATIVE -msse2 -fno-builtin -fsanitize=fuzzer-no-link \
	    -c $< -o $@
$(FUZZ_LIB_A): $(call obj,fuzz/obj,$(FUZZ_LIB_SRCS))
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^
$(FUZZ_CLI_A): $(call obj,fuzz/obj,$(FUZZ_CLI_SRCS))
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^
$(FUZZ_NATIVE_A): $(call obj,fuzz/native,$(NATIVE_SRCS))
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^
$(BUILD)/fuzz/%: $(BUILD)/fuzz/obj/tests/fuzz/%.o $(FUZZ_CLI_A) $(FUZZ_LIB_A) $(FUZZ_NATIVE_A)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $(filter %.o,$^) $(FUZZ_NATIVE_LINK) \
	    $(FUZZ_CLI_A) $(FUZZ_LIB_A) $(HOST_LIBS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/vmmbench/guest \
	           $(DESTDIR)$(PREFIX)/share/vmmbench/configs $(DESTDIR)$(PREFIX)/share/vmmbench/lab \
	           $(DESTDIR)$(PREFIX)/share/vmmbench/qemu
	install -m 755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(GUESTS) $(DESTDIR)$(PREFIX)/share/vmmbench/guest/
	install -m 644 $(QEMU_STUB) $(DESTDIR)$(PREFIX)/share/vmmbench/qemu/
	install -m 644 $(CONFIGS) $(DESTDIR)$(PREFIX)/share/vmmbench/configs/
	install -m 755 $(LAB_FILES) $(DESTDIR)$(PREFIX)/share/vmmbench/lab/

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -type f -name '*.d' 2>/dev/null)
