/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-2-Clause) */
/*
 * ionclock: a PHC-backed, never-backward TAI timestamp counter.
 *
 * WHAT THE CLOCK IS
 *
 * The ionclock module attaches to a PTP hardware clock (PHC, /dev/ptpN) and
 * samples it from the kernel against a counter that userspace can read
 * cheaply (the TSC, or CLOCK_MONOTONIC_RAW where the TSC is not usable).
 * From those samples it publishes a mapping from the counter to TAI
 * nanoseconds since 1970-01-01 00:00:00 TAI.  Each attached PHC is served as
 * /dev/ionclockN.
 *
 * GUARANTEES
 *
 * The published time never goes backward: for any two reads A and B, where B
 * starts after A has returned (on the same CPU or, with the ordered counter
 * reads described below, on any CPU), time(B) >= time(A).  This holds across
 * every update of the mapping, across PHC steps in either direction, and
 * across the loss of the PHC.  It is a property of how the module builds the
 * mapping (each new mapping starts where the previous one was at the moment
 * of the switch, with a positive rate), not of clamping in the reader.
 *
 * The time follows the PHC, which is expected to be disciplined by PTP.
 * When the PHC is stepped, the module slews toward the new PHC time at a
 * bounded rate instead of stepping backward.  When the PHC disappears, the
 * counter keeps running on the last frequency estimate (HOLDOVER); when its
 * rate becomes implausible, on the estimate from before the samples that
 * showed it (UNRELIABLE).  A rate that slides there slowly, over more than
 * two fit windows (about 3 s at the default poll), is followed until it
 * crosses the limit.  In both states the bound grows with the drift rate
 * and the rate's uncertainty from the last sample trusted (ERROR BOUND).
 *
 * A counter that goes back (a TSC reset over suspend or hibernation) is
 * taken as a new start: the engine refits from the first sample after it,
 * keeps its trusted rate, and the time goes on from where it stood, or
 * from the PHC's time if that is later.  Readers that read the counter
 * between the reset and the next update see the time stand still.
 *
 * DISRUPTIONS
 *
 * Some events leave every sample the engine holds saying nothing about
 * the counter values to come: the machine suspended (CLOCK_BOOTTIME ran
 * on while CLOCK_MONOTONIC stood: S3, hibernation), the VM or the sampler
 * stopped for far longer than the poll period can explain (a paused or
 * SIGSTOPped VM, a live migration's downtime, a snapshot restore), the
 * counter moved away from CLOCK_MONOTONIC_RAW by more than any plausible
 * rate allows (a TSC offset changed under the guest), or the PHC was
 * replaced (it vanished and came back, or another clock now answers at
 * its index).  Each is a disruption: the generation changes, the fit's
 * window restarts from the next sample, the rate the time runs on is
 * taken to be off by up to max_freq_ppb (in the bound, from the first
 * sample after it) until IONCLOCK_MIN_FIT samples have re-fitted it, and
 * IONCLOCK_FLAG_DISRUPTED stays set until then.  The time goes on from
 * where it stood (never backward) and closes its offset to the PHC as
 * after a step.  @disruptions counts them, @disruption_cause says what
 * the last one was.  Between the event itself and the first sample after
 * it (up to a poll period) nothing can know of it: a reader that must
 * not trust the page across such a moment waits for the generation to
 * change (poll(), IONCLOCK_IOC_GET_EVENT).
 *
 * FINDING AND MAPPING THE PAGE
 *
 * Open /dev/ionclockN read-only and mmap() exactly one page (4096 bytes) at
 * offset 0 with PROT_READ and MAP_SHARED.  Writable or executable mappings,
 * other sizes and other offsets are refused; so is a later
 * mprotect(PROT_WRITE).  The page stays valid after the PHC disappears and
 * after the file is closed, for as long as it is mapped.
 *
 * READ PROTOCOL
 *
 * The fields below @seq_count are written under a sequence counter.  A
 * reader:
 *
 *   1. reads @seq_count; if it is odd, an update is in progress: retry
 *      (after a bounded number of tries, fall back to read() on the device);
 *   2. issues a read barrier (on x86 a compiler barrier suffices);
 *   3. copies the fields it needs and reads the counter named by
 *      @counter_id: for IONCLOCK_COUNTER_TSC, "lfence; rdtsc" (or rdtscp),
 *      so the counter is not read before the fields; for
 *      IONCLOCK_COUNTER_MONOTONIC_RAW, clock_gettime(CLOCK_MONOTONIC_RAW)
 *      as the kernel has it: inside a time namespace, minus the
 *      namespace's monotonic offset (/proc/self/timens_offsets);
 *   4. issues a read barrier and re-reads @seq_count; if it differs from the
 *      value of step 1, retries from step 1;
 *   5. outside the loop, computes
 *
 *        delta   = counter - counter_base     (0 if negative as signed)
 *        tai_ns  = time_base_ns + ((delta * time_mult) >> time_shift)
 *
 *      where the product is a 128-bit unsigned product of two 64-bit values.
 *
 * A reader that finds IONCLOCK_FLAG_VALID clear has no time to report; one
 * that finds IONCLOCK_FLAG_COUNTER_UNSYNCED set uses read() instead.
 *
 * The counter read must be ordered after the field reads (step 3): a counter
 * read that floats above the first sequence read could pair a counter from
 * before an update with the mapping after it and break the monotonic
 * guarantee across CPUs.  The other way round needs nothing: the module
 * anchors each new mapping 250 ns after the moment the update begins, and the
 * new mapping stands still until then, so a reader whose second sequence
 * read the CPU satisfied a little before its counter read (x86's rdtsc does
 * not order later loads) still cannot see time go back.  "lfence; rdtsc" is
 * all the ordering a reader needs, as in the vDSO.
 *
 * ERROR BOUND
 *
 * The page carries the maximum error of the published time, as the sum of
 * its components at counter_base plus a term growing with the time since
 * counter_base (see the fields).  It is a bound, not a statistic, under
 * these assumptions: the PHC's own error against its reference is at most
 * @error_upstream_ns (set by hand, or fed from ptp4l's state and aged by
 * the module: see the upstream fields), the PHC read is bracketed by the
 * two counter reads around it, and the rate between counter and PHC does not move by more
 * than drift_ppb (struct ionclock_config) between two samples unseen: the
 * counter's wander and the PTP servo's frequency steps together.
 *
 * It holds from the first published sample.  The rate the time runs on
 * may be off the PHC's: until two samples have measured it, by up to
 * max_freq_ppb; from then on by the fit's own worst-case slope error,
 * from the samples' brackets (or residuals, where larger).  Before any
 * rate is trusted the time runs on the counter's nominal rate, so the
 * uncertainty is how far the first samples put the PHC from it.  That
 * uncertainty times the age of the last trusted sample is in
 * @error_bound_ns, and it is part of @error_growth_frac32, so a PHC lost
 * at any point (HOLDOVER) leaves a bound that grows at the rate the time
 * may really be missing by, plus drift_ppb.  When the newest samples'
 * slope refutes the window's (the PHC's rate stepped), the uncertainty
 * widens at once to what the newest samples say.
 *
 * IONCLOCK_FLAG_BOUND_DEGRADED says the assumptions failed: a sample found
 * the PHC outside the bound published for its moment, or the rate moving
 * by more than drift_ppb; it stays until a sample is inside again and the
 * fit has caught up.  Between the change and the first sample that shows
 * it (one poll period) nothing can know: a servo that steps the PHC's
 * frequency by F ppb needs drift_ppb >= F * 1000 for the bound to cover
 * that too.  PHC steps are outside the assumptions until seen: they are
 * flagged, then covered by @error_slew_ns.
 *
 * While a feed is set and has brought no new measurement since the last
 * publication (the domain's grandmaster lost, or the feed stopped), the
 * bound never falls below the last one published grown at its rate: the
 * PHC's error against the domain is no better known than it was, whatever
 * the local terms do.  A new measurement releases it.
 *
 * With a PHC on UTC (phc_timescale) and no TAI - UTC offset known, the
 * page's time is UTC under TAI's name: IONCLOCK_FLAG_BOUND_VALID is clear.
 *
 * All multi-byte fields are in the CPU's native byte order.
 */
#ifndef _UAPI_LINUX_IONCLOCK_H
#define _UAPI_LINUX_IONCLOCK_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define IONCLOCK_DEVICE_PREFIX		"/dev/ionclock"

/**
 * struct ionclock_page - the read-only page mapped from /dev/ionclockN
 */
struct ionclock_page {
	/* Constant for the life of the device. */
	__u32 magic;
#define IONCLOCK_PAGE_MAGIC		0x4b4c4349	/* "ICLK" little-endian */
	__u32 size;			/* bytes, == IONCLOCK_PAGE_SIZE */
	__u16 version;
#define IONCLOCK_ABI_VERSION		1
	__u8 counter_id;		/* what the mapping is a function of */
#define IONCLOCK_COUNTER_INVALID	0
#define IONCLOCK_COUNTER_TSC		1	/* x86 TSC, invariant and synced */
#define IONCLOCK_COUNTER_MONOTONIC_RAW	2	/* CLOCK_MONOTONIC_RAW in ns */
	__u8 pad0;
	__u32 pad1;

	/* Everything below is written under @seq_count. */
	__u32 seq_count;		/* odd while an update is in progress */
	__u32 flags;
#define IONCLOCK_FLAG_VALID		(1u << 0) /* the mapping may be used */
#define IONCLOCK_FLAG_PHC_GONE		(1u << 1) /* PHC removed: holdover */
#define IONCLOCK_FLAG_SLEWING		(1u << 2) /* closing an offset to the PHC */
#define IONCLOCK_FLAG_BOUND_VALID	(1u << 3) /* error fields are filled */
#define IONCLOCK_FLAG_TAI_OFFSET_VALID	(1u << 4) /* @tai_utc_offset_s is known */
#define IONCLOCK_FLAG_LEAP_VALID	(1u << 5) /* leap fields are filled */
/*
 * A sample found the PHC outside the bound published for its moment, or
 * its rate moving by more than drift_ppb between samples: the bound's
 * assumptions do not hold until the fit has caught up (see ERROR BOUND).
 */
#define IONCLOCK_FLAG_BOUND_DEGRADED	(1u << 6)
/*
 * The kernel no longer uses the TSC for its own time (the clocksource
 * watchdog found it unstable, or the clocksource was changed): page
 * reads on different CPUs may disagree.  read() stays ordered; the
 * library takes every reading through it while this is set.
 */
#define IONCLOCK_FLAG_COUNTER_UNSYNCED	(1u << 7)
/* Bits 8-12: the PTP domain and where TAI - UTC comes from (see below). */
#define IONCLOCK_FLAG_UPSTREAM_FED	(1u << 8) /* a feed set the upstream term */
#define IONCLOCK_FLAG_UPSTREAM_STALE	(1u << 9) /* its time-to-live passed */
#define IONCLOCK_FLAG_UPSTREAM_UNTRACEABLE (1u << 10) /* GM accuracy unknown */
#define IONCLOCK_FLAG_LEAPS_EXPIRED	(1u << 11) /* leaps known to expiry only */
#define IONCLOCK_FLAG_UTC_DISAGREE	(1u << 12) /* UTC sources disagree */
/*
 * A disruption was seen (see DISRUPTIONS below): the window restarted and
 * the bound assumes nothing of the rate until the PHC has been sampled
 * again and the rate re-fitted; the flag goes when it has.
 */
#define IONCLOCK_FLAG_DISRUPTED		(1u << 13)
	__u32 state;
#define IONCLOCK_STATE_STARTING		0	/* no good sample yet */
#define IONCLOCK_STATE_TRACKING		1	/* following the PHC */
#define IONCLOCK_STATE_HOLDOVER		2	/* PHC gone or unreadable */
#define IONCLOCK_STATE_UNRELIABLE	3	/* PHC implausible: not followed */
	/*
	 * Disruption marker: changes whenever the PHC being followed is
	 * discontinuous (stepped, replaced, lost, found again).  Readers that
	 * cache derived state compare it.
	 */
	__u32 generation;

	/* The mapping: see READ PROTOCOL. */
	__u64 counter_base;		/* counter units */
	__u64 time_base_ns;		/* TAI ns since the epoch at counter_base */
	__u64 time_mult;		/* ns per counter unit << time_shift */
	__u32 time_shift;
	__u32 pad2;

	/*
	 * Error bound at counter_base, in ns, and its components: the read
	 * bracket of the newest PHC sample, the estimator's residual, the
	 * offset still being slewed away, and the PHC's own error against its
	 * reference as set by the PTP servo's owner; the rest of it is the
	 * drift and rate-uncertainty terms (see ERROR BOUND).  The bound at a
	 * later counter value adds (elapsed_ns * error_growth_frac32) >> 32.
	 */
	__u64 error_bound_ns;
	__u64 error_growth_frac32;	/* drift + rate + slew, ns/ns << 32 */
	__u64 error_bracket_ns;
	__u64 error_residual_ns;
	__u64 error_slew_ns;
	__u64 error_upstream_ns;

	/*
	 * Leap seconds.  UTC = TAI - @tai_utc_offset_s before
	 * @next_leap_tai_s and TAI - (@tai_utc_offset_s + @next_leap_delta_s)
	 * from it on.  @next_leap_tai_s is the TAI second of the UTC midnight
	 * that ends the day with the leap: for an inserted second (+1) the
	 * TAI second before it is UTC 23:59:60; for a deleted one (-1) UTC
	 * goes from 23:59:58 to 00:00:00.  The smeared UTC clock instead runs
	 * linearly from the old to the new offset over @smear_window_s
	 * centred on @next_leap_tai_s (so it never steps and never goes
	 * backward).  The module keeps a passed leap in these fields until
	 * its smear is over, then moves on to the next one; all of them are
	 * meaningful only with IONCLOCK_FLAG_LEAP_VALID (a current source
	 * of leaps is in use: see @utc_source below; @leap_expiry_tai_s is
	 * how far its knowledge reaches).
	 */
	__s32 tai_utc_offset_s;		/* TAI - UTC before the leap, s */
	__s32 next_leap_delta_s;	/* +1 inserted, -1 deleted, 0 none */
	__u64 next_leap_tai_s;		/* see above; 0 if none scheduled */
	__u64 leap_expiry_tai_s;	/* the leap table is valid until here */
	__u32 smear_window_s;		/* UTC smear length, centred, s */
	__u32 disruption_cause;		/* IONCLOCK_DISRUPTION_* of the last */

	/* Observability: the estimator's view of the PHC. */
	__s64 phc_freq_ppb;		/* PHC rate vs counter nominal, ppb */
	__s64 phc_offset_ns;		/* PHC - published time at last sample */
	__u64 last_sample_counter;	/* counter value of the last good sample */
	__u64 samples_taken;
	__u64 samples_rejected;
	__u64 steps_detected;

	/*
	 * The PTP domain, as a feed (ionclockctl feed, talking to ptp4l)
	 * last reported it with IONCLOCK_IOC_SET_UPSTREAM; all zero until
	 * IONCLOCK_FLAG_UPSTREAM_FED.  Times are on this page's TAI scale.
	 *
	 * The upstream term of the bound, @error_upstream_ns, is then
	 *
	 *   max(upstream_error_ns,                     (the static floor)
	 *       @upstream_reported_ns + drift_ppb * (t - @upstream_measured_tai_ns))
	 *
	 * at t = counter_base, and the bound's growth rate includes drift_ppb
	 * once more, so the term keeps growing between publications and after
	 * the feed stops.  @upstream_reported_ns is the feed's model of the
	 * PHC's error against the grandmaster when it was measured:
	 * |@upstream_master_offset_ns| + @upstream_asymmetry_ns +
	 * @upstream_gm_accuracy_ns + the hop from the clock ptp4l disciplines
	 * (struct ionclock_upstream's @hop_ns).  From @upstream_expiry_tai_ns on (the
	 * feed's time-to-live) nothing has confirmed it: the page sets
	 * IONCLOCK_FLAG_UPSTREAM_STALE at its next publication (a reader may
	 * compare itself) and the term keeps growing.  With
	 * IONCLOCK_FLAG_UPSTREAM_UNTRACEABLE the grandmaster's clockAccuracy
	 * is unknown: the bound covers the error against the grandmaster's
	 * time, not against TAI.  Without a feed the term is upstream_error_ns.
	 */
	__u64 upstream_measured_tai_ns;	/* when @upstream_reported_ns held */
	__u64 upstream_expiry_tai_ns;	/* time-to-live ends here */
	__u64 upstream_reported_ns;	/* the feed's error model, see above */
	__s64 upstream_master_offset_ns;/* ptp4l's offset from its master */
	__u64 upstream_asymmetry_ns;	/* path asymmetry allowance */
	__u64 upstream_gm_accuracy_ns;	/* grandmaster clockAccuracy, decoded */
	__u64 upstream_path_delay_ns;	/* mean path delay */
	__u64 upstream_updates;		/* SET_UPSTREAM calls accepted */
	__u64 upstream_gm_changes;	/* times the grandmaster identity changed */
	__u8 upstream_gm_identity[8];	/* grandmaster clockIdentity */
	__u32 upstream_port_state;	/* IEEE 1588 portState (IONCLOCK_PORT_*) */
	__u32 upstream_flags;		/* IONCLOCK_UPSTREAM_* as last fed */
	__s32 upstream_utc_offset_s;	/* the domain's currentUtcOffset */
	__u8 upstream_gm_clock_class;
	__u8 upstream_gm_clock_accuracy; /* raw IEEE 1588 enumeration */
	__u16 pad4;

	/*
	 * Where the leap fields above come from, best first:
	 *  PTP: the domain's currentUtcOffset and leap61/leap59, while the
	 *	feed is within its time-to-live and the grandmaster says
	 *	ptpTimescale and currentUtcOffsetValid.  A leap it announces
	 *	is at the end of the UTC day it was announced in; if it comes
	 *	later than half a smear window before the leap, the smear for
	 *	it starts at once and @smear_window_s is shortened to match,
	 *	so the smeared clock still never steps;
	 *  LEAP_FILE: a leap table that has not expired;
	 *  KERNEL: CLOCK_TAI - CLOCK_REALTIME, when something set it
	 *	(phc2sys -a, chrony); an offset only, no leap;
	 *  EXPIRED_LEAP_FILE: a table past its expiry, with
	 *	IONCLOCK_FLAG_LEAPS_EXPIRED: its leaps are known only up to
	 *	@leap_expiry_tai_s, and IONCLOCK_FLAG_LEAP_VALID is clear.
	 * @utc_sources has bit (1 << IONCLOCK_UTC_SOURCE_x) set for every
	 * source available, @utc_disagree for each whose TAI - UTC now (or,
	 * for a current table, whose leap at the end of the day) differs from
	 * the source in use, with IONCLOCK_FLAG_UTC_DISAGREE.  The module
	 * never resolves a disagreement: it reports it.  Within a minute of
	 * a leap, sources are not compared (they switch at slightly
	 * different moments).
	 */
	__u32 utc_source;
#define IONCLOCK_UTC_SOURCE_NONE		0
#define IONCLOCK_UTC_SOURCE_PTP			1
#define IONCLOCK_UTC_SOURCE_LEAP_FILE		2
#define IONCLOCK_UTC_SOURCE_KERNEL		3
#define IONCLOCK_UTC_SOURCE_EXPIRED_LEAP_FILE	4
#define IONCLOCK_UTC_SOURCES			5
	__u32 utc_sources;
	__u32 utc_disagree;
	__u32 disruptions;		/* disruptions seen since load */

	/*
	 * The hypervisor's vmclock device (Linux's ptp_vmclock, ACPI
	 * "AMZNC10C"/"VMCLOCK"), as the module last read it, before the
	 * sample this page was published from (see VMCLOCK below).
	 * @vmclock_state says whether it is followed; the rest is filled
	 * only with IONCLOCK_VMCLOCK_FOLLOWED.
	 */
	__u8 vmclock_state;
#define IONCLOCK_VMCLOCK_UNSUPPORTED	0 /* built without <linux/vmclock-abi.h> */
#define IONCLOCK_VMCLOCK_OFF		1 /* vmclock=off */
#define IONCLOCK_VMCLOCK_ABSENT		2 /* no vmclock device found */
#define IONCLOCK_VMCLOCK_FOLLOWED	3 /* followed: the fields below hold */
#define IONCLOCK_VMCLOCK_STATES		4
	__u8 vmclock_status;		/* the device's clock_status, as is */
#define IONCLOCK_VMCLOCK_STATUS_UNKNOWN		0
#define IONCLOCK_VMCLOCK_STATUS_INITIALIZING	1
#define IONCLOCK_VMCLOCK_STATUS_SYNCHRONIZED	2
#define IONCLOCK_VMCLOCK_STATUS_FREERUNNING	3
#define IONCLOCK_VMCLOCK_STATUS_UNRELIABLE	4
	__u16 pad5;
	__u32 vmclock_flags;		/* IONCLOCK_VMCLOCK_F_* */
/* The hypervisor announces a disruption (a migration) in about a day. */
#define IONCLOCK_VMCLOCK_F_DISRUPTION_SOON	(1u << 0)
/* ... in about an hour. */
#define IONCLOCK_VMCLOCK_F_DISRUPTION_IMMINENT	(1u << 1)
/* @vmclock_maxerror_ns, @vmclock_esterror_ns hold the device's values. */
#define IONCLOCK_VMCLOCK_F_MAXERROR_VALID	(1u << 2)
#define IONCLOCK_VMCLOCK_F_ESTERROR_VALID	(1u << 3)
/* The device bumps @vmclock_generation on each snapshot restore. */
#define IONCLOCK_VMCLOCK_F_GENERATION_PRESENT	(1u << 4)
	__u64 vmclock_disruption_marker; /* the device's disruption_marker */
	__u64 vmclock_generation;	/* its vm_generation_counter */
	__u64 vmclock_maxerror_ns;	/* its time_maxerror_nanosec */
	__u64 vmclock_esterror_ns;	/* its time_esterror_nanosec */
};

#define IONCLOCK_PAGE_SIZE		4096

/* What a disruption was (the page's @disruption_cause, a bit mask). */
#define IONCLOCK_DISRUPTION_SUSPEND	(1u << 0) /* BOOTTIME ran on, MONOTONIC stood */
#define IONCLOCK_DISRUPTION_STALL	(1u << 1) /* no sample for far longer than the poll */
#define IONCLOCK_DISRUPTION_COUNTER_JUMP (1u << 2) /* the counter left MONOTONIC_RAW */
#define IONCLOCK_DISRUPTION_PHC_CHANGED	(1u << 3) /* the PHC was replaced */
#define IONCLOCK_DISRUPTION_VMCLOCK	(1u << 4) /* the hypervisor said so (vmclock) */
#define IONCLOCK_DISRUPTION_CAUSES	5

/*
 * VMCLOCK
 *
 * On a VM with a vmclock device (QEMU's -device vmclock, Linux 6.13+'s
 * ptp_vmclock; module parameter vmclock=auto, the default) the module
 * reads the device's page itself, read-only, under its sequence count:
 * before every sample and so every poll period.  When its
 * disruption_marker or its vm_generation_counter changed since the last
 * look, the hypervisor says the counter and every calibration are
 * invalid (a live migration, a snapshot restore): that is a disruption
 * with IONCLOCK_DISRUPTION_VMCLOCK, handled as any other (DISRUPTIONS
 * above), and taken before the sample it precedes.  The device's
 * announcement of maintenance to come (disruption soon: about a day;
 * imminent: about an hour), its clock_status and its own error figures,
 * where the hypervisor fills them, are copied into the vmclock fields for
 * whoever watches; the module does not take its time from the vmclock.
 *
 * A mapping whose @vmclock_disruption_marker (or @vmclock_generation)
 * differs from the one the vmclock page shows now was made before a
 * disruption the module has not handled yet (at most one poll period
 * ago): a reader that maps the vmclock too (/dev/vmclock0) can tell, and
 * libionclock does: it gives such a mapping's reads no bound.
 */

/*
 * ioctl magic; see Documentation/userspace-api/ioctl/ioctl-number.rst, where
 * no driver lists 0xBE.  Until December 2026 this was 0xB6, which fpga-dfl
 * has registered: binaries built against the old header get -ENOTTY from
 * every ionclock ioctl and must be rebuilt.  The page layout is unchanged.
 */
#define IONCLOCK_IOC_MAGIC		0xBE

/**
 * struct ionclock_info - what a device is attached to
 * @flags: must be 0 on input
 * @phc_index: N of the attached /dev/ptpN, or -1 once it is gone
 * @state: IONCLOCK_STATE_*
 * @abi_version: IONCLOCK_ABI_VERSION of the page
 * @counter_id: IONCLOCK_COUNTER_* of the page
 * @phc_timescale: IONCLOCK_TIMESCALE_* the PHC is taken to run on
 * @phc_name: the PHC driver's clock name (e.g. "igb" device name)
 * @ifname: the network interface the PHC belongs to, if known
 * @read_method: IONCLOCK_READ_*: how the module reads the PHC, the most
 *	precise way its driver supports, probed when the PHC is opened (and
 *	again when it comes back); 0 on input
 * @read_half_width_ns: half the bracket of the newest sample's PHC read,
 *	ns: what the read adds to the error bound; 0 on input
 * @reserved: must be 0 on input; 0 on output
 *
 * The read methods, most precise first:
 *
 * IONCLOCK_READ_CROSSTSTAMP: the driver's cross-timestamp (getcrosststamp,
 * what PTP_SYS_OFFSET_PRECISE uses: PCIe PTM or the TSC's ART), the PHC
 * and CLOCK_MONOTONIC_RAW latched together.  The bracket is only the
 * conversion of that stamp to the counter: a few ns.
 *
 * IONCLOCK_READ_GETTIMEX64_RAW and IONCLOCK_READ_GETTIMEX64: the driver's
 * gettimex64, with the system stamps it takes right around its register
 * read, on CLOCK_MONOTONIC_RAW where the kernel lets the caller choose
 * (or gives the clocksource's counter itself), else on CLOCK_REALTIME.
 * The bracket is the stamps' (or the module's own counter reads around
 * the whole call, where the driver does not stamp).
 *
 * IONCLOCK_READ_GETTIME64: the driver's gettime64, bracketed by the
 * module's own counter reads around the call, locking included.
 */
struct ionclock_info {
	__u32 flags;
	__s32 phc_index;
	__u32 state;
	__u32 abi_version;
	__u32 counter_id;
	__u32 phc_timescale;
#define IONCLOCK_TIMESCALE_TAI		0
#define IONCLOCK_TIMESCALE_UTC		1
	char phc_name[32];
	char ifname[16];
	__u32 read_method;
#define IONCLOCK_READ_NONE		0
#define IONCLOCK_READ_GETTIME64		1
#define IONCLOCK_READ_GETTIMEX64	2
#define IONCLOCK_READ_GETTIMEX64_RAW	3
#define IONCLOCK_READ_CROSSTSTAMP	4
	__u32 read_half_width_ns;
	__u64 reserved[7];
};

/**
 * struct ionclock_reading - what read() on /dev/ionclockN returns
 * @tai_ns: TAI ns, strictly greater than any value any read() of this
 *	device has returned before (machine-wide unique)
 * @earliest_ns: @tai_ns minus the error bound
 * @latest_ns: @tai_ns plus the error bound
 * @state: IONCLOCK_STATE_* at the time of the read
 * @flags: IONCLOCK_FLAG_* at the time of the read
 * @generation: the page's generation at the time of the read
 * @reserved: 0
 *
 * read() must ask for at least sizeof(struct ionclock_reading) bytes and
 * returns exactly one reading.
 */
struct ionclock_reading {
	__u64 tai_ns;
	__u64 earliest_ns;
	__u64 latest_ns;
	__u32 state;
	__u32 flags;
	__u32 generation;
	__u32 reserved[3];
};

/**
 * struct ionclock_config - the engine's run-time policies
 * @flags: must be 0
 * @set: on IONCLOCK_IOC_SET_CONFIG, which fields to change
 *	(IONCLOCK_CONFIG_*); others keep their value.  Ignored on GET.
 * @poll_ms: PHC sampling period, 10 .. 10000 ms
 * @max_slew_ppb: largest rate change used to close an offset,
 *	1000 .. 100000000 ppb (0.1 ppm .. 10%)
 * @step_threshold_ns: a reading this far from the prediction is a step,
 *	1000 .. 10^12 ns
 * @step_forward: 1: forward steps are applied at once; 0: slewed.
 *	Backward steps are always slewed.
 * @max_freq_ppb: a PHC further than this from the counter's nominal rate
 *	is implausible and not followed, 1000 .. 100000000 ppb
 * @drift_ppb: how far the rate between counter and PHC may move between
 *	two samples, for the error bound: the counter's drift plus the PTP
 *	servo's frequency steps (see ERROR BOUND), 0 .. 1000000 ppb
 * @upstream_error_ns: the PHC's own error against its reference, as the
 *	PTP servo's owner reports it, 0 .. 10^12 ns; added to the bound
 * @smear_window_s: length of the UTC smear, 0 (none) .. 172800 s
 * @machine_id: this host's number in the IDs of IONCLOCK_IOC_NEXT_ID,
 *	0 .. IONCLOCK_MACHINE_ID_MAX, or IONCLOCK_MACHINE_ID_UNSET (the
 *	default after load, which refuses ID requests until it is set).
 *	Each host that hands out IDs needs a number of its own.
 * @reserved: must be 0
 *
 * Changing anything needs CAP_SYS_TIME; an out-of-range value fails the
 * whole call with -ERANGE and changes nothing.  The smear window cannot be
 * changed while a smear runs (under either window): -EBUSY, as that would
 * step the smeared UTC clock.
 */
struct ionclock_config {
	__u32 flags;
	__u32 set;
#define IONCLOCK_CONFIG_POLL		(1u << 0)
#define IONCLOCK_CONFIG_MAX_SLEW	(1u << 1)
#define IONCLOCK_CONFIG_STEP_THRESHOLD	(1u << 2)
#define IONCLOCK_CONFIG_STEP_FORWARD	(1u << 3)
#define IONCLOCK_CONFIG_MAX_FREQ	(1u << 4)
#define IONCLOCK_CONFIG_DRIFT		(1u << 5)
#define IONCLOCK_CONFIG_UPSTREAM_ERROR	(1u << 6)
#define IONCLOCK_CONFIG_SMEAR_WINDOW	(1u << 7)
#define IONCLOCK_CONFIG_MACHINE_ID	(1u << 8)
#define IONCLOCK_CONFIG_ALL		0x1ffu
	__u32 poll_ms;
	__u32 max_slew_ppb;
	__u64 step_threshold_ns;
	__u32 step_forward;
	__u32 max_freq_ppb;
	__u32 drift_ppb;
	__u32 smear_window_s;
	__u64 upstream_error_ns;
	__u64 machine_id;
#define IONCLOCK_MACHINE_ID_MAX		1023
#define IONCLOCK_MACHINE_ID_UNSET	(~0ULL)
	__u64 reserved[5];
};

#define IONCLOCK_MAX_LEAPS	64

/**
 * struct ionclock_leap - one entry of a leap table
 * @utc_s: Unix time (UTC) from which @tai_utc_offset_s applies: the
 *	midnight after the leap, a multiple of 86400
 * @tai_utc_offset_s: TAI - UTC from @utc_s on
 * @reserved: must be 0
 */
struct ionclock_leap {
	__u64 utc_s;
	__s32 tai_utc_offset_s;
	__u32 reserved;
};

/**
 * struct ionclock_leap_table - the TAI - UTC history, as in leap-seconds.list
 * @flags: must be 0
 * @count: entries in @leaps, 1 .. IONCLOCK_MAX_LEAPS
 * @expiry_utc_s: Unix time after which the table must not be trusted
 * @leaps: sorted by @utc_s, strictly increasing, each offset +-1 from the
 *	one before (the first, 1972-01-01, sets the base: 10 s)
 * @reserved: must be 0
 *
 * Setting needs CAP_SYS_TIME; the kernel checks everything above.  A
 * table that has already expired is accepted: it is the last source of
 * TAI - UTC, with IONCLOCK_FLAG_LEAPS_EXPIRED (see the page's utc_source).
 * A table that would put smeared UTC behind where it stands, as one loaded
 * in the middle of a smear can, is refused with -EBUSY: load it once the
 * smear is over.
 */
struct ionclock_leap_table {
	__u32 flags;
	__u32 count;
	__u64 expiry_utc_s;
	struct ionclock_leap leaps[IONCLOCK_MAX_LEAPS];
	__u64 reserved[4];
};

/*
 * ORDERED IDS
 *
 * IONCLOCK_IOC_NEXT_ID hands out 64-bit IDs that are unique across every
 * process using the device and strictly increasing: a call that starts
 * after another has returned gets IDs greater than all of that call's, in
 * any process.  As unsigned 64-bit numbers:
 *
 *   bits 63..22  milliseconds since IONCLOCK_ID_EPOCH_TAI_S (42 bits, which
 *                last until the year 2159)
 *   bits 21..12  the machine id (struct ionclock_config @machine_id)
 *   bits 11..0   a sequence number within the millisecond
 *
 * The millisecond is the device's TAI time, which never goes backward, read
 * during the call; the epoch is 2020-01-01 00:00:00 TAI (on ionclock's
 * scale, 1577836800 s after 1970-01-01 00:00:00 TAI; it is
 * 2019-12-31 23:59:23 UTC).  TAI rather than UTC, so that a leap second
 * neither repeats nor smears the time in an ID.  When the 4096 sequence
 * numbers of a millisecond are used up the call sleeps until the next one:
 * it never wraps and never reuses an ID.  IDs of different hosts (each with
 * its own machine id) sort by time to within the hosts' error bounds.
 * Each device allocates on its own: a host with several devices hands out
 * IDs from one of them, or gives each its own machine id.
 */
#define IONCLOCK_ID_EPOCH_TAI_S		1577836800ULL
#define IONCLOCK_ID_MS_SHIFT		22
#define IONCLOCK_ID_MACHINE_SHIFT	12
#define IONCLOCK_ID_SEQ_MASK		0xfffULL
#define IONCLOCK_ID_MACHINE_MASK	0x3ffULL
#define IONCLOCK_ID_MAX_COUNT		4096

/**
 * struct ionclock_id_request - the argument of IONCLOCK_IOC_NEXT_ID
 * @flags: must be 0
 * @count: on input, how many IDs are wanted, 1 .. IONCLOCK_ID_MAX_COUNT;
 *	on output, how many were granted, 1 .. the input (all from one
 *	millisecond, so fewer when its sequence numbers run out)
 * @first_id: on output, the first ID; the IDs granted are @first_id,
 *	@first_id + 1, ... @first_id + @count - 1
 * @reserved: must be 0
 *
 * Needs no privilege.  Fails with -EADDRNOTAVAIL while the machine id is
 * unset, -EAGAIN while the device has no valid time, -EOVERFLOW outside the
 * 42 bits of milliseconds, -EINTR if a signal arrives while it waits for
 * the next millisecond.
 */
struct ionclock_id_request {
	__u32 flags;
	__u32 count;
	__u64 first_id;
	__u64 reserved[2];
};

/**
 * struct ionclock_upstream - the PTP domain's view of the PHC, from a feed
 * @flags: IONCLOCK_UPSTREAM_*; no other bit may be set
 * @port_state: IEEE 1588 portState of ptp4l's port (IONCLOCK_PORT_*)
 * @master_offset_ns: ptp4l's offset from its master (TIME_STATUS_NP),
 *	|value| <= 10^12; ionclockctl feed gives the largest of the last 16
 *	syncs, as one sync's measurement is only as good as its timestamps
 * @asymmetry_ns: allowance for path asymmetry, 0 .. 10^12 (the feed's
 *	policy; any asymmetry A moves the offset by A/2, at most the mean
 *	path delay)
 * @gm_accuracy_ns: the grandmaster's clockAccuracy decoded, 0 .. 10^12;
 *	0 with IONCLOCK_UPSTREAM_ACCURACY_UNKNOWN
 * @path_delay_ns: the mean path delay, 0 .. 10^12 (shown, not used)
 * @age_ns: how long before this call @master_offset_ns was measured (a
 *	servo that stopped getting news reports an old one), 0 .. 864 * 10^11
 * @ttl_ns: after this long without a new call the upstream state is
 *	unknown, 10^8 .. 864 * 10^11 ns (0.1 s .. 1 day)
 * @utc_offset_s: the domain's currentUtcOffset, 0 .. 1000; used only with
 *	IONCLOCK_UPSTREAM_PTP_TIMESCALE and IONCLOCK_UPSTREAM_UTC_OFFSET_VALID
 * @gm_identity: the grandmaster's clockIdentity
 * @gm_clock_class: its clockClass
 * @gm_clock_accuracy: its clockAccuracy, raw
 * @time_source: its timeSource, raw
 * @pad: must be 0
 * @hop_ns: the PHC's distance from the clock the PTP stack disciplines,
 *	0 .. 10^12: 0 when that clock is the PHC (hardware timestamping);
 *	with software timestamping it is CLOCK_REALTIME, and the PHC follows
 *	it through a further hop (phc2sys) that the feed measures
 * @reserved: must be 0
 *
 * The kernel adds |@master_offset_ns| + @asymmetry_ns + @gm_accuracy_ns +
 * @hop_ns into the bound as the upstream term (see the page's upstream fields);
 * how it ages and how it meets upstream_error_ns is said there.  Setting
 * needs CAP_SYS_TIME; anything out of range fails the call with -ERANGE,
 * unknown flags, both leap flags, or non-zero padding with -EINVAL, and
 * a device with no time yet with -EAGAIN; nothing changes then.
 * IONCLOCK_UPSTREAM_CLEAR (alone, everything else 0) forgets the feed: the
 * term is upstream_error_ns again.  IONCLOCK_IOC_GET_UPSTREAM returns what
 * was last set, @age_ns grown to now, or -ENODATA if nothing was.
 */
struct ionclock_upstream {
	__u32 flags;
#define IONCLOCK_UPSTREAM_UTC_OFFSET_VALID	(1u << 0) /* currentUtcOffsetValid */
#define IONCLOCK_UPSTREAM_LEAP61		(1u << 1) /* this UTC day ends 23:59:60 */
#define IONCLOCK_UPSTREAM_LEAP59		(1u << 2) /* this UTC day ends 23:59:58 */
#define IONCLOCK_UPSTREAM_PTP_TIMESCALE		(1u << 3) /* ptpTimescale: PHC runs TAI */
#define IONCLOCK_UPSTREAM_TIME_TRACEABLE	(1u << 4)
#define IONCLOCK_UPSTREAM_FREQ_TRACEABLE	(1u << 5)
#define IONCLOCK_UPSTREAM_GM_PRESENT		(1u << 6) /* ptp4l has a grandmaster */
#define IONCLOCK_UPSTREAM_ACCURACY_UNKNOWN	(1u << 7) /* clockAccuracy 0xFE or reserved */
#define IONCLOCK_UPSTREAM_CLEAR			(1u << 31) /* forget the feed */
#define IONCLOCK_UPSTREAM_ALL			0x800000ffu
	__u32 port_state;
#define IONCLOCK_PORT_INITIALIZING	1
#define IONCLOCK_PORT_FAULTY		2
#define IONCLOCK_PORT_DISABLED		3
#define IONCLOCK_PORT_LISTENING		4
#define IONCLOCK_PORT_PRE_MASTER	5
#define IONCLOCK_PORT_MASTER		6
#define IONCLOCK_PORT_PASSIVE		7
#define IONCLOCK_PORT_UNCALIBRATED	8
#define IONCLOCK_PORT_SLAVE		9
	__s64 master_offset_ns;
	__u64 asymmetry_ns;
	__u64 gm_accuracy_ns;
	__u64 path_delay_ns;
	__u64 age_ns;
	__u64 ttl_ns;
	__s32 utc_offset_s;
	__u8 gm_identity[8];
	__u8 gm_clock_class;
	__u8 gm_clock_accuracy;
	__u8 time_source;
	__u8 pad;
	__u64 hop_ns;
	__u64 reserved[5];
};

/*
 * The upstream error model, the one sum the kernel adds to the bound and
 * ionclockctl feed prints: |master offset| + the asymmetry allowance + the
 * grandmaster's accuracy + the hop between the PHC and ptp4l's clock.
 */
static inline __u64
ionclock_upstream_error_ns(const struct ionclock_upstream *u)
{
	__u64 offset = u->master_offset_ns < 0 ?
		       -(__u64)u->master_offset_ns : (__u64)u->master_offset_ns;

	return offset + u->asymmetry_ns + u->gm_accuracy_ns + u->hop_ns;
}

#define IONCLOCK_IOC_GET_INFO	_IOWR(IONCLOCK_IOC_MAGIC, 1, struct ionclock_info)
#define IONCLOCK_IOC_GET_CONFIG	_IOWR(IONCLOCK_IOC_MAGIC, 2, struct ionclock_config)
#define IONCLOCK_IOC_SET_CONFIG	_IOW(IONCLOCK_IOC_MAGIC, 3, struct ionclock_config)
#define IONCLOCK_IOC_GET_LEAPS	_IOWR(IONCLOCK_IOC_MAGIC, 4, struct ionclock_leap_table)
#define IONCLOCK_IOC_SET_LEAPS	_IOW(IONCLOCK_IOC_MAGIC, 5, struct ionclock_leap_table)
#define IONCLOCK_IOC_SET_UPSTREAM _IOW(IONCLOCK_IOC_MAGIC, 6, struct ionclock_upstream)
#define IONCLOCK_IOC_GET_UPSTREAM _IOR(IONCLOCK_IOC_MAGIC, 7, struct ionclock_upstream)
#define IONCLOCK_IOC_NEXT_ID	_IOWR(IONCLOCK_IOC_MAGIC, 8, struct ionclock_id_request)

/*
 * NOTIFICATION
 *
 * poll() (select, epoll) on an open /dev/ionclockN reports EPOLLPRI once
 * the page's generation, state or disruption count has changed since that
 * open file last took its event with IONCLOCK_IOC_GET_EVENT (or since it
 * was opened), and until it does: each open file sees each change once,
 * as with vmclock's notification.  EPOLLIN is always set (read() never
 * blocks); wait for EPOLLPRI alone.
 */

/**
 * struct ionclock_event - what changed since this file last asked
 * @flags: on input 0, or IONCLOCK_EVENT_PEEK to look without taking the
 *	event (poll() stays ready); no other bit
 * @changed: on output, IONCLOCK_EVENT_* for each of generation, state and
 *	disruption count that differs from what this file last took
 * @events: on output, how many changes the device published since then
 *	(several may fold into one wake-up)
 * @events_total: on output, changes published since the module loaded
 * @generation: the page's generation now
 * @old_generation: the generation this file last took
 * @state: IONCLOCK_STATE_* now
 * @old_state: the state this file last took
 * @page_flags: the page's IONCLOCK_FLAG_* now
 * @disruptions: the page's disruption count now
 * @disruption_cause: IONCLOCK_DISRUPTION_* of the last disruption
 * @pad: must be 0
 * @reserved: must be 0
 *
 * Needs no privilege; -EINVAL for other flags or non-zero padding.  With
 * @changed 0 nothing happened (a wake-up that another thread took).
 */
struct ionclock_event {
	__u32 flags;
#define IONCLOCK_EVENT_PEEK		(1u << 0)
	__u32 changed;
#define IONCLOCK_EVENT_GENERATION	(1u << 0)
#define IONCLOCK_EVENT_STATE		(1u << 1)
#define IONCLOCK_EVENT_DISRUPTION	(1u << 2)
	__u64 events;
	__u64 events_total;
	__u32 generation;
	__u32 old_generation;
	__u32 state;
	__u32 old_state;
	__u32 page_flags;
	__u32 disruptions;
	__u32 disruption_cause;
	__u32 pad;
	__u64 reserved[4];
};

#define IONCLOCK_IOC_GET_EVENT	_IOWR(IONCLOCK_IOC_MAGIC, 9, struct ionclock_event)

#endif /* _UAPI_LINUX_IONCLOCK_H */
