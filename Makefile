# Quantix-OS build and test entry points. See README.md.
#   make run        build what is missing, boot the disk image in QEMU
#   make test       everything: checks, image build, VM scenarios
#   make check      fast tier: lint, type-check, unit + integration tests (no VM boots)
#   make squashfs | iso | disk     the images, in output/
#   make bench      benchmarks (print figures)
#   make clean
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DELETE_ON_ERROR:

VERSION ?= $(shell cat VERSION 2>/dev/null || echo 0.1.0)
export VERSION
export QX_CACHE ?= /var/cache/quantix-os
export SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || date +%s)

BUILD    ?= build
OUT      ?= output
ROOTFS   := $(BUILD)/rootfs
GEN      := $(BUILD)/gen-overlay-$(VERSION)
INITRD   := $(BUILD)/initramfs.img
SQUASHFS := $(OUT)/system-$(VERSION).squashfs
ISO      := $(OUT)/quantix-os-$(VERSION).iso
DISK     := $(OUT)/quantix-os-$(VERSION).img

TS_SOURCES := $(shell find packages -name '*.ts' -not -name '*.test.ts' -not -path '*/node_modules/*' 2>/dev/null)
OVERLAY    := $(shell find overlay -type f 2>/dev/null)

.PHONY: all deps check lint typecheck unit initramfs-test test virt-boot vm-test vm-update vm-install vm-node-api vm-vms vm-extended squashfs next-squashfs iso disk images run bench clean screenshots

all: check

deps:
	@scripts/host-deps.sh

# ---- fast tier ---------------------------------------------------------------
lint: deps
	npx biome lint $(wildcard packages scripts tests bench)

typecheck: deps
	npx tsc -p tsconfig.json --noEmit

unit: deps
	node scripts/run-tests.mjs

initramfs-test: deps
	initramfs/tests/run.sh

check: lint typecheck unit initramfs-test

# The web UI's screenshots (every view, light and dark) into docs/screenshots, shown by docs/web-ui.md.
screenshots: deps
	QX_SCREENSHOTS_DIR=docs/screenshots node --import tsx --test packages/web/src/screenshots.test.ts

# ---- images ------------------------------------------------------------------
$(ROOTFS)/.done: builder/rootfs.sh builder/lib.sh $(wildcard profiles/quantix/*.conf) | deps
	builder/rootfs.sh $(ROOTFS)
	touch $@

$(INITRD): $(ROOTFS)/.done builder/initramfs.sh initramfs/init profiles/quantix/mkinitfs.conf
	builder/initramfs.sh $(ROOTFS) $@

# Generated overlay: bundled tools, GRUB images, trusted key, release file.
$(GEN)/.done: $(ROOTFS)/.done $(TS_SOURCES) scripts/bundle.mjs builder/grub.sh builder/sign.sh package-lock.json
	rm -rf $(GEN) && mkdir -p $(GEN)/usr/local/bin $(GEN)/etc/quantix
	node scripts/bundle.mjs $(GEN)/usr/local/bin
	builder/grub.sh $(GEN)/usr/lib/quantix/boot
	builder/sign.sh pubkey $(GEN)
	sed -e 's/^QX_VERSION=.*/QX_VERSION=$(VERSION)/' $(ROOTFS)/etc/quantix/release > $(GEN)/etc/quantix/release
	mkdir -p $(GEN)/usr/lib && sed -e 's/^\(VERSION\|VERSION_ID\)=.*/\1="$(VERSION)"/' -e 's/^PRETTY_NAME=.*/PRETTY_NAME="Quantix-OS $(VERSION)"/' $(ROOTFS)/usr/lib/os-release > $(GEN)/usr/lib/os-release
	touch $@

$(SQUASHFS): $(ROOTFS)/.done $(INITRD) $(GEN)/.done builder/squashfs.sh $(OVERLAY)
	mkdir -p $(OUT)
	builder/squashfs.sh $(ROOTFS) $@ --initramfs $(INITRD) --overlay overlay --overlay $(GEN)
	builder/sign.sh sign $@

$(DISK): $(SQUASHFS) $(TS_SOURCES)
	npx tsx packages/installer/src/cli/qx-install.ts image --image $(SQUASHFS) --out $@
	builder/sign.sh sign $@

$(ISO): $(SQUASHFS) builder/iso.sh
	builder/iso.sh $(SQUASHFS) $@
	builder/sign.sh sign $@

squashfs: $(SQUASHFS)
iso: $(ISO)
disk: $(DISK)
images: squashfs iso disk

# The next release, for the update scenarios: the same rootfs with VERSION_NEXT,
# signed with the same key (an A→B→A update needs two versions).
VERSION_NEXT  ?= $(shell echo $(VERSION) | awk -F. '{ printf "%d.%d.%d", $$1, $$2, $$3 + 1 }')
SQUASHFS_NEXT := $(OUT)/system-$(VERSION_NEXT).squashfs

next-squashfs: $(SQUASHFS_NEXT)
$(SQUASHFS_NEXT): $(SQUASHFS)
	$(MAKE) --no-print-directory squashfs VERSION=$(VERSION_NEXT)

# ---- VM tier -----------------------------------------------------------------
# Scenario files of the VM tier that CI runs (each shares its boots between scenarios).
# Two files run side by side (QX_VM_JOBS; node's runner takes them in name order): each
# TCG guest keeps one host core busy.
VM_TESTS := tests/vm/boot.test.ts tests/vm/media.test.ts tests/vm/rollback.test.ts tests/vm/update.test.ts
QX_VM_JOBS ?= 2

vm-test: $(DISK) $(ISO) $(SQUASHFS_NEXT)
	QX_DISK=$(DISK) QX_ISO=$(ISO) QX_SQUASHFS=$(SQUASHFS) QX_SQUASHFS_NEXT=$(SQUASHFS_NEXT) QX_VM_JOBS=$(QX_VM_JOBS) \
		node scripts/run-tests.mjs vm $(VM_TESTS)

# Scenario files outside CI's make test: each takes 12-40 min of TCG boots on a
# 2-core host, more than the 45-minute budget of make test leaves. Run them by hand or
# nightly: make vm-extended (all), or one of the targets below.
#   vm-update    make test's update and rollback scenarios alone, plus the crash-looping qx-node one
#   vm-install   ISO → disk installs under UEFI and BIOS, power cut in the first boot
#   vm-node-api  log in, rename, reboot through the API; the DCUI on ttyS0
#   vm-vms       a tiny VM created and started through the API inside the node
vm-update: $(DISK) $(SQUASHFS_NEXT)
	QX_DISK=$(DISK) QX_SQUASHFS=$(SQUASHFS) QX_SQUASHFS_NEXT=$(SQUASHFS_NEXT) QX_VM_EXTENDED=1 QX_VM_JOBS=$(QX_VM_JOBS) \
		node scripts/run-tests.mjs vm tests/vm/rollback.test.ts tests/vm/update.test.ts
vm-install: $(ISO)
	QX_ISO=$(ISO) node scripts/run-tests.mjs vm tests/vm/install.test.ts
vm-node-api: $(DISK)
	QX_DISK=$(DISK) node scripts/run-tests.mjs vm tests/vm/node-api.test.ts
vm-vms: $(DISK)
	QX_DISK=$(DISK) node scripts/run-tests.mjs vm tests/vm/vms.test.ts
vm-extended: vm-update vm-install vm-node-api vm-vms

# The libvirt + OVS integration test boots tiny guests with the image's kernel; in a
# fresh clone there is none until the rootfs is built, so make test runs it again here
# (make check skips those steps, saying why).
virt-boot: $(ROOTFS)/.done
	QX_TEST_KERNEL=$(ROOTFS)/boot/vmlinuz node scripts/run-tests.mjs tests/integration/virt.test.ts

test: check images virt-boot vm-test

run: $(DISK)
	npx tsx tests/vm/run.ts --disk $(DISK)

bench:
	@for b in bench/*.sh; do echo "== $$b"; bash $$b; done

clean:
	rm -rf $(OUT) $(BUILD) .tmp
