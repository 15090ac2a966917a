/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ionclock's in-module interfaces: one struct per /dev/ionclockN and the
 * entry points of each file.
 */
#ifndef IONCLOCK_KMOD_H
#define IONCLOCK_KMOD_H

#include <linux/atomic.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/path.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/ionclock.h>

#include "disruption.h"
#include "engine.h"
#include "leap.h"
#include "upstream.h"

#define IONCLOCK_MAX_DEVICES	8
/* Failed samples in a row that put a device in holdover. */
#define IONCLOCK_FAILS_FOR_HOLDOVER	5

/**
 * struct ionclock_phc - an attached PTP hardware clock
 * @file: the open /dev/ptpN; holding it keeps the posix_clock allocated
 *	(not the driver: after removal the clock is a zombie)
 * @clk: the posix_clock behind @file
 * @index: N of /dev/ptpN
 * @devt: its device number
 * @name: the driver's clock name
 * @identity: what names this PHC across removal and return: its parent
 *	device's bus and address ("pci:0000:03:00.0"), or "name:" and @name
 *	for a PHC with no parent device
 * @ifname: the network interface whose device owns the PHC, or ""
 * @gone: the PHC was removed; every read now fails
 * @method: IONCLOCK_READ_* the PHC is read with, the most precise it
 *	supports, chosen when it is opened (phc.c)
 * @half_width_ns: half the bracket of the last sample taken, ns
 * @root: the root directory of the process that loaded the module, which
 *	every path is looked up from, also later, from the sampler's
 *	kworker: a kernel thread's own root need not be the one /dev is
 *	under (on 7.x it is an empty file system the real root sits over)
 */
struct ionclock_phc {
	struct file *file;
	struct posix_clock *clk;
	int index;
	dev_t devt;
	char name[32];
	char identity[64];
	char ifname[16];
	bool gone;
	u32 method;
	u32 half_width_ns;
	struct path root;
};

/**
 * struct ionclock_disruption_look - the clocks at the sampler's last look
 * @valid: a look was taken
 * @counter: the counter
 * @raw_ns: CLOCK_MONOTONIC_RAW
 * @mono_ns: CLOCK_MONOTONIC
 * @boot_ns: CLOCK_BOOTTIME
 * @poll_ns: the poll period then
 */
struct ionclock_disruption_look {
	bool valid;
	u64 counter;
	u64 raw_ns;
	u64 mono_ns;
	u64 boot_ns;
	u64 poll_ns;
};

/**
 * struct ionclock_dev - one /dev/ionclockN
 * @id: N
 * @misc: the character device
 * @open_ok: opening it is allowed: set once every device of the module
 *	has registered, so a load that fails never had a reader
 * @devname: "ionclockN"
 * @page: the page userspace maps
 * @vpage: its kernel address
 * @phc: the PHC being followed
 * @lock: serialises the sampler and the engine
 * @engine: the time engine (under @lock)
 * @work: the periodic sampler
 * @last_unique: the largest value read() has returned
 * @state_reported: the engine state last reported in dmesg
 * @poll_ms: sampling period (under @lock)
 * @smear_window_s: UTC smear length published in the page (under @lock)
 * @leaps: the loaded leap table, or NULL (under @lock)
 * @kernel_tai_offset_s: CLOCK_TAI - CLOCK_REALTIME at the last sample, 0
 *	if unset
 * @tai_offset_valid: whether the last publish had TAI - UTC from any
 *	source (under @lock); the page shows it, but is never read back
 * @tai_offset_s: that TAI - UTC, s (under @lock)
 * @upstream: what the PTP feed last said (under @lock)
 * @last_good: when the last good sample was taken (jiffies)
 * @last_reattach: when re-attaching was last tried (jiffies)
 * @failed_in_row: samples that failed since the last good one
 * @id_machine: IONCLOCK_ID_MACHINE_SET | the machine id, or 0 while it is
 *	unset (so that a zeroed device starts unset); written under @lock
 * @id_next: the next free ID slot (ids.c)
 * @last_look: the clocks at the last disruption check (under @lock)
 * @event_wq: poll() waits here for a change of generation or state
 * @event_lock: guards the event fields below and each open file's copy
 * @event_seq: changes published so far (device.c)
 * @event_gen: the generation when the last change was counted
 * @event_state: the state then
 * @event_disruptions: the disruption count then
 * @vmclock: what the vmclock page said at the last look (vmclock.c;
 *	under @lock): the page shows it, and the next look is judged
 *	against it
 */
struct ionclock_dev {
	int id;
	struct miscdevice misc;
	bool open_ok;
	char devname[16];
	struct page *page;
	struct ionclock_page *vpage;
	struct ionclock_phc phc;
	struct mutex lock;
	struct ionclock_engine engine;
	struct delayed_work work;
	atomic64_t last_unique;
	int state_reported;
	unsigned int poll_ms;
	u32 smear_window_s;
	struct ionclock_leap_table *leaps;
	s32 kernel_tai_offset_s;
	bool tai_offset_valid;
	s32 tai_offset_s;
	struct ionclock_upstream_state upstream;
	unsigned long last_good;
	unsigned long last_reattach;
	unsigned int failed_in_row;
	u32 id_machine;
	atomic64_t id_next;
	struct ionclock_disruption_look last_look;
	wait_queue_head_t event_wq;
	spinlock_t event_lock;
	atomic64_t event_seq;
	u32 event_gen;
	u32 event_state;
	u32 event_disruptions;
	struct ionclock_vmclock_look vmclock;
};

#define IONCLOCK_ID_MACHINE_SET		BIT(16)

/**
 * struct ionclock_tunable - one run-time setting: the ioctl field that
 *	carries it, its range, and the module parameter that sets it at load
 * @field: the field's name in struct ionclock_config
 * @bit: its IONCLOCK_CONFIG_* bit
 * @offset: offsetof() the field in struct ionclock_config
 * @size: the field's size, 4 or 8
 * @min: smallest value, in the field's unit
 * @max: largest value, in the field's unit
 * @param: the module parameter (same name, same unit), or NULL if none
 */
struct ionclock_tunable {
	const char *field;
	u32 bit;
	u16 offset;
	u16 size;
	u64 min;
	u64 max;
	const char *param;
};

/* control.c: the one table of ranges, and checks against it. */
extern const struct ionclock_tunable ionclock_tunables[];
extern const unsigned int ionclock_tunables_count;
const struct ionclock_tunable *ionclock_tunable(u32 bit);

/* Module parameters (main.c). */
extern unsigned int ionclock_poll_ms;
extern unsigned int ionclock_reads_per_sample;
extern unsigned int ionclock_phc_timescale;
extern char *ionclock_vmclock_param;

/* counter.c: the counter userspace reads. */
int ionclock_counter_init(const char *which);
u8 ionclock_counter_id(void);
bool ionclock_counter_synced(void);
u64 ionclock_counter_read(void);
struct system_time_snapshot;
struct timespec64;
bool ionclock_counter_from_stamp(const struct system_time_snapshot *snap,
				 bool raw, const struct timespec64 *ts,
				 u64 *out);
u64 ionclock_counter_ticks(u64 ns);
u64 ionclock_counter_nominal_mult(void);
u32 ionclock_counter_shift(void);

/* phc.c */
int ionclock_phc_attach(struct ionclock_phc *phc, const char *spec);
int ionclock_phc_reattach(struct ionclock_phc *phc);
void ionclock_phc_detach(struct ionclock_phc *phc);
int ionclock_phc_sample(struct ionclock_phc *phc, unsigned int reads,
			struct ionclock_sample *best);

/* page.c */
int ionclock_page_alloc(struct ionclock_dev *idev);
void ionclock_page_free(struct ionclock_dev *idev);
void ionclock_page_publish(struct ionclock_dev *idev);
int ionclock_page_read(struct ionclock_dev *idev,
		       struct ionclock_reading *r);
void ionclock_page_snapshot(struct ionclock_dev *idev,
			    struct ionclock_page *copy);

/* sampler.c */
void ionclock_sampler_start(struct ionclock_dev *idev);
void ionclock_sampler_stop(struct ionclock_dev *idev);

/* control.c: the configuration and leap-table ioctls */
long ionclock_ioctl_get_config(struct ionclock_dev *idev, void __user *arg);
long ionclock_ioctl_set_config(struct ionclock_dev *idev, void __user *arg);
long ionclock_ioctl_get_leaps(struct ionclock_dev *idev, void __user *arg);
long ionclock_ioctl_set_leaps(struct ionclock_dev *idev, void __user *arg);
long ionclock_ioctl_set_upstream(struct ionclock_dev *idev, void __user *arg);
long ionclock_ioctl_get_upstream(struct ionclock_dev *idev, void __user *arg);

/* ids.c */
long ionclock_ioctl_next_id(struct ionclock_dev *idev, void __user *arg);

/* sysfs.c */
extern const struct attribute_group *ionclock_groups[];

/* device.c */
int ionclock_device_register(struct ionclock_dev *idev);
void ionclock_device_unregister(struct ionclock_dev *idev);
void ionclock_device_notify(struct ionclock_dev *idev);

/* disruption.c */
void ionclock_disruption_check(struct ionclock_dev *idev, u32 also);
void ionclock_disruption_note(struct ionclock_dev *idev, u32 cause);

/* vmclock.c */
int ionclock_vmclock_init(const char *which);
void ionclock_vmclock_exit(void);
u8 ionclock_vmclock_state(const char *which);
void ionclock_vmclock_read(struct ionclock_vmclock_look *look);
u32 ionclock_vmclock_check(struct ionclock_dev *idev);

#endif /* IONCLOCK_KMOD_H */
