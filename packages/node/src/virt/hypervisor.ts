/**
 * @module virt/hypervisor
 * The one interface through which qx-node reaches libvirt. The production
 * implementation is virt/virsh-driver (virsh + XML); virt/memory-hypervisor keeps
 * domains in memory for API tests that must not need a libvirtd. Both pass the same
 * contract suite (virt/hypervisor-contract).
 *
 * Implementations throw the classes of virt/errors: VirtNotFoundError for an unknown
 * domain, VirtExistsError for a name taken by another UUID, VirtStateError for an
 * operation the domain's state forbids, VirtUnavailableError when libvirtd is down.
 */
import type { VmState } from "./spec.ts";

/** One domain as the hypervisor reports it. */
export interface DomainRecord {
  readonly name: string;
  readonly state: VmState;
  readonly autostart: boolean;
  /** The domain XML (live XML for a running domain). */
  readonly xml: string;
}

export interface Hypervisor {
  /** Every defined domain, with state, autostart and XML. */
  list(): Promise<DomainRecord[]>;
  /** One domain, or null when none has that name. */
  get(name: string): Promise<DomainRecord | null>;
  /** Defines (persists) a domain; refuses a name that another UUID has. */
  define(xml: string): Promise<void>;
  /**
   * Defines a domain, sets autostart and starts it as asked, and returns it: all or
   * nothing (a domain defined before a later step failed is removed again).
   */
  create(xml: string, o: { autostart: boolean; start: boolean }): Promise<DomainRecord>;
  /** Removes the definition (and UEFI variables) of a shut-off domain. */
  undefine(name: string): Promise<void>;
  start(name: string): Promise<void>;
  /** Asks the guest to power off (ACPI). */
  shutdown(name: string): Promise<void>;
  /** Pulls the plug. */
  destroy(name: string): Promise<void>;
  /** Asks the guest to reboot (ACPI). */
  reboot(name: string): Promise<void>;
  setAutostart(name: string, on: boolean): Promise<void>;
  /** `kvm` when hardware virtualization works, else `qemu` (TCG). */
  domainType(): Promise<"kvm" | "qemu">;
  /** Counters of every running domain (`virsh domstats`), for the metrics history. */
  stats(): Promise<DomainStats[]>;
  /** Calls `listener` with each lifecycle change libvirt reports (whoever made it); returns the unsubscribe function. */
  watch(listener: (e: DomainLifecycle) => void): () => void;
}

/** A lifecycle change of a domain, in libvirt's words (`virsh event`): `Started` `Booted`, `Stopped` `Shutdown`... */
export interface DomainLifecycle {
  readonly name: string;
  /** Defined, Undefined, Started, Suspended, Resumed, Stopped, Shutdown, PMSuspended, Crashed. */
  readonly event: string;
  readonly detail: string | null;
}

/** A running domain's counters (cumulative since it started, except memory). */
export interface DomainStats {
  readonly name: string;
  /** CPU time used by all its vCPUs and QEMU, nanoseconds (`cpu.time`). */
  readonly cpuTimeNs: number;
  /** Memory the guest has (`balloon.current`), bytes. */
  readonly memoryBytes: number;
  /** Memory QEMU holds on the host (`balloon.rss`), bytes; null when libvirt does not say. */
  readonly memoryRssBytes: number | null;
  readonly diskReadBytes: number;
  readonly diskWriteBytes: number;
  readonly netRxBytes: number;
  readonly netTxBytes: number;
}
