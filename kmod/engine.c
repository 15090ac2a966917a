// SPDX-License-Identifier: GPL-2.0
/*
 * The time engine.  Two halves:
 *
 * - the estimator fits a line through the last IONCLOCK_WINDOW samples
 *   (least squares over PHC time against counter time), giving the PHC's time
 *   at the newest sample and its rate against the counter's nominal rate;
 *
 * - the publisher turns that fit into a mapping for readers.  Every new
 *   mapping starts at the value the previous one had at the moment of the
 *   switch and has a positive rate, so the published time cannot go backward
 *   by construction.  The offset between the published time and the fit is
 *   closed by running the mapping slightly fast or slow, at most
 *   max_slew_ppb; only forward steps may be applied at once.
 *
 * Rates are dimensionless fractions scaled by 2^40 ("frac40").  No division
 * of 128-bit values: the kernel has none, so products that need 128 bits go
 * through ionclock_mul_div().
 */
#ifdef __KERNEL__
#include <linux/math64.h>
#include <linux/string.h>
#else
#include <string.h>
#endif
#include <linux/ionclock_seq.h>

#include "engine.h"

#define FRAC40		((s64)1 << 40)
#define NSEC_PER_SEC_U	1000000000ULL

/* a * b / c with a 128-bit intermediate; saturates instead of trapping. */
static u64 ionclock_mul_div(u64 a, u64 b, u64 c)
{
	unsigned __int128 p = (unsigned __int128)a * b;

	if (!c || (u64)(p >> 64) >= c)
		return ~0ULL;
#ifdef __KERNEL__
	return mul_u64_u64_div_u64(a, b, c);
#else
	return (u64)(p / c);
#endif
}

/* Signed a * b / c for c > 0, saturating at +-2^63. */
static s64 ionclock_smul_div(s64 a, u64 b, u64 c)
{
	u64 mag = ionclock_mul_div(a < 0 ? -(u64)a : (u64)a, b, c);

	if (mag > ~0ULL >> 1)
		mag = ~0ULL >> 1;
	return a < 0 ? -(s64)mag : (s64)mag;
}

static u64 abs_s64(s64 v)
{
	return v < 0 ? -(u64)v : (u64)v;
}

static u64 max_u64(u64 a, u64 b)
{
	return a > b ? a : b;
}

/* a + b, saturating. */
static u64 add_sat(u64 a, u64 b)
{
	return a + b < a ? ~0ULL : a + b;
}

static s64 frac40_from_ppb(u64 ppb)
{
	return (s64)ionclock_mul_div(ppb, FRAC40, NSEC_PER_SEC_U);
}

/* ns * (1 + rate): the nominal duration ns seen by a clock running at rate. */
static s64 scale_by_rate(s64 ns, s64 rate_frac40)
{
	__int128 p = (__int128)ns * rate_frac40;

	return ns + (s64)(p >> 40);
}

u64 ionclock_mapping_eval(const struct ionclock_mapping *m, u64 counter)
{
	return ionclock_map_ns(counter, m->counter_base, m->time_base_ns,
			       m->mult, m->shift);
}

u64 ionclock_counter_to_ns(const struct ionclock_engine *e, u64 delta)
{
	return (u64)(((unsigned __int128)delta * e->nominal_mult) >> e->shift);
}

/* Nominal ns from counter a to counter b (signed). */
static s64 counter_span_ns(const struct ionclock_engine *e, u64 a, u64 b)
{
	if (b >= a)
		return (s64)ionclock_counter_to_ns(e, b - a);
	return -(s64)ionclock_counter_to_ns(e, a - b);
}

void ionclock_engine_init(struct ionclock_engine *e, u64 nominal_mult,
			  u32 shift, const struct ionclock_params *params)
{
	memset(e, 0, sizeof(*e));
	e->params = *params;
	e->nominal_mult = nominal_mult;
	e->shift = shift;
	e->anchor_ticks = ((u64)IONCLOCK_ANCHOR_AHEAD_NS << shift) / nominal_mult;
	e->state = IONCLOCK_STATE_STARTING;
}

/*
 * Where to anchor a mapping whose update began (sequence count odd) at
 * @counter: IONCLOCK_ANCHOR_AHEAD_NS later.  Readers then need only the
 * vDSO's ordering, the counter read kept below the field loads.  The CPU
 * may still satisfy a reader's re-read of the sequence count before its
 * counter read; such a reader can pair the old mapping with a counter
 * taken after the update began, but not after the anchor, since that
 * window is a few loads long, far below IONCLOCK_ANCHOR_AHEAD_NS.  The old mapping
 * at any counter up to the anchor is at most the new mapping's base, and
 * the new mapping stands at its base until the anchor: time stays put for
 * that moment instead of going back.
 */
u64 ionclock_engine_anchor(const struct ionclock_engine *e, u64 counter)
{
	return counter + e->anchor_ticks;
}

s64 ionclock_engine_freq_ppb(const struct ionclock_engine *e)
{
	return ionclock_smul_div(e->freq_frac40, NSEC_PER_SEC_U, FRAC40);
}

/* PHC time predicted at @counter by a fit anchored at (@at, @phc). */
static u64 predict(const struct ionclock_engine *e, u64 at, u64 phc,
		   s64 freq_frac40, u64 counter)
{
	return phc + scale_by_rate(counter_span_ns(e, at, counter), freq_frac40);
}

struct fit {
	s64 freq_frac40;
	s64 y0;		/* PHC - newest sample's PHC at the newest counter */
	u64 residual_ns;
	u64 unc_frac40;	/* how far the true rate may be from freq_frac40 */
};

/*
 * A sample's weight in the fit: (best half-width / its half-width)^2,
 * the inverse of its variance relative to the best, from 256 down to 1.  A
 * read that waited on a bus or a lock says little about when the PHC was
 * latched; weighted this way a burst of them cannot tilt the fit, and if
 * every read becomes slow for good the weights even out again.
 */
static u32 sample_weight(u64 min_hw, u64 hw)
{
	u64 r = ionclock_mul_div(min_hw + 1, 16, hw + 1);

	return r ? (u32)(r * r) : 1;
}

/* Scale a and b down together until both fit in 62 bits. */
static void scale_pair(unsigned __int128 *a, unsigned __int128 *b)
{
	while (*a > ((unsigned __int128)1 << 62) ||
	       *b > ((unsigned __int128)1 << 62)) {
		*a >>= 1;
		*b >>= 1;
	}
}

/*
 * Weighted least squares of y = PHC advance minus nominal counter advance
 * against x = nominal counter advance, both relative to the newest sample,
 * over the window's samples from @from on.  x is taken in units of 1024 ns
 * so the sums stay small; the sums themselves are 128-bit and scaled down
 * to 62 bits before the one division.  With weights of at most 256 over 16
 * samples, the weighted means stay in 64 bits for any window shorter than
 * about two weeks.
 *
 * The slope's uncertainty is a worst case, not a statistic: if each
 * sample's y is off by at most e_i, the slope is off by at most
 * sum(w_i |x_i - mx| e_i) / sxx.  e_i is the sample's bracket (the PHC
 * latched inside it), or its residual where that is larger: a read whose
 * bracket claims more than the PHC delivers shows up there.
 */
static void fit_window(const struct ionclock_engine *e, u32 from,
		       struct fit *f)
{
	const struct ionclock_sample *last = &e->win[e->n - 1];
	s64 xs[IONCLOCK_WINDOW], y[IONCLOCK_WINDOW], mx = 0, my = 0;
	u32 w[IONCLOCK_WINDOW], sw = 0;
	u64 min_hw = ~0ULL;
	__int128 sxx = 0, sxy = 0;
	unsigned __int128 su = 0, sxx_u;
	u32 i, n = e->n;

	for (i = from; i < n; i++)
		if (e->win[i].half_width < min_hw)
			min_hw = e->win[i].half_width;
	for (i = from; i < n; i++) {
		s64 x = counter_span_ns(e, last->counter, e->win[i].counter);

		xs[i] = x >> 10;
		y[i] = (s64)(e->win[i].phc_ns - last->phc_ns) - x;
		w[i] = sample_weight(min_hw, e->win[i].half_width);
		sw += w[i];
		mx += w[i] * xs[i];
		my += w[i] * y[i];
	}
	mx /= (s64)sw;
	my /= (s64)sw;
	for (i = from; i < n; i++) {
		sxx += (__int128)w[i] * (xs[i] - mx) * (xs[i] - mx);
		sxy += (__int128)w[i] * (xs[i] - mx) * (y[i] - my);
	}
	sxx_u = sxx > 0 ? (unsigned __int128)sxx : 0;
	while (sxx > ((__int128)1 << 62) ||
	       sxy > ((__int128)1 << 62) ||
	       sxy < -((__int128)1 << 62)) {
		sxx >>= 1;
		sxy >>= 1;
	}
	if (sxx <= 0) {
		f->freq_frac40 = e->freq_frac40;
		f->y0 = my;
	} else {
		/* slope per 1024 ns, so per ns it is sxy / sxx / 2^10. */
		f->freq_frac40 = ionclock_smul_div((s64)sxy, 1ULL << 30,
						   (u64)sxx);
		f->y0 = my - ionclock_smul_div((s64)sxy, abs_s64(mx),
					       (u64)sxx) * (mx < 0 ? -1 : 1);
	}
	/*
	 * The residual is what the line does not explain: a wide sample may
	 * sit off the line by as much as it is wider than the best one.
	 */
	f->residual_ns = 0;
	for (i = from; i < n; i++) {
		s64 x = counter_span_ns(e, last->counter, e->win[i].counter);
		s64 fit = f->y0 +
			  (s64)(((__int128)x * f->freq_frac40) >> 40);
		u64 r = abs_s64(y[i] - fit);
		u64 hw = ionclock_counter_to_ns(e, e->win[i].half_width);
		u64 slack = ionclock_counter_to_ns(e, e->win[i].half_width -
						   min_hw);

		su += (unsigned __int128)w[i] * abs_s64(xs[i] - mx) *
		      (r > hw ? r : hw);
		r = r > slack ? r - slack : 0;
		if (r > f->residual_ns)
			f->residual_ns = r;
	}
	if (!sxx_u) {
		f->unc_frac40 = ~0ULL >> 1;
	} else {
		scale_pair(&su, &sxx_u);
		f->unc_frac40 = sxx_u ? ionclock_mul_div((u64)su, 1ULL << 30,
							 (u64)sxx_u) :
					~0ULL >> 1;
	}
}

/*
 * The rate uncertainty of a fit over the whole window, widened when its
 * newest samples refute it.  Were the rate constant over the window, the
 * newest IONCLOCK_RECENT samples' own slope could differ from the
 * window's by no more than both uncertainties together; when it does, the
 * rate has changed (a servo's frequency step) and the window's line lags
 * it: the true rate is then only known to lie within the recent slope's
 * uncertainty of the recent slope.
 */
static u64 window_rate_unc(struct ionclock_engine *e, const struct fit *f)
{
	struct fit recent, last;
	u64 d, noise, unc;

	if (e->n < 2 * IONCLOCK_RECENT)
		return f->unc_frac40;
	fit_window(e, e->n - IONCLOCK_RECENT, &recent);
	d = abs_s64(recent.freq_frac40 - f->freq_frac40);
	noise = add_sat(recent.unc_frac40, f->unc_frac40);
	if (d <= noise)
		return f->unc_frac40;
	/* Moved by more than drift_ppb: outside what the bound assumes. */
	if (d - noise > (u64)frac40_from_ppb(e->params.drift_ppb))
		e->bound_degraded = true;
	/*
	 * The change may lie inside those recent samples too, which then
	 * lag it: the newest two say what the rate was since the last one.
	 */
	fit_window(e, e->n - 2, &last);
	unc = max_u64(add_sat(d, recent.unc_frac40),
		      add_sat(abs_s64(last.freq_frac40 - f->freq_frac40),
			      last.unc_frac40));
	return max_u64(f->unc_frac40, unc);
}

/*
 * Whether the PHC's time in @s lies outside the bound the last
 * publication gave for that moment, by more than the sample's own
 * bracket: then the truth was outside it, whatever the bound assumed.
 */
static bool outside_published_bound(const struct ionclock_engine *e,
				    const struct ionclock_sample *s)
{
	u64 t, bound, hw;

	if (!e->published || s->counter < e->map.counter_base)
		return false;
	t = ionclock_mapping_eval(&e->map, s->counter);
	bound = add_sat(e->bound.total_ns,
			ionclock_bound_growth_ns(t - e->map.time_base_ns,
						 e->bound.growth_frac32));
	hw = ionclock_counter_to_ns(e, s->half_width);
	return abs_s64((s64)(s->phc_ns - t)) > add_sat(bound, hw);
}

/*
 * Whether @s is a step away from the only sample in the window, too few
 * for a fit to predict from: whether it is further from it than the
 * trusted rate allows.  Before any rate is trusted, two samples cannot
 * tell a step from a PHC running at a wrong rate, and the window's fit
 * judges.  So does it right after a step: a second jump is more likely a
 * wrong rate than a second step.
 */
static bool early_step(const struct ionclock_engine *e,
		       const struct ionclock_sample *s)
{
	const struct ionclock_sample *last = &e->win[e->n - 1];
	s64 span = counter_span_ns(e, last->counter, s->counter);
	s64 err = (s64)(s->phc_ns - last->phc_ns) -
		  scale_by_rate(span, e->freq_frac40);

	if (!e->have_freq || e->just_stepped)
		return false;
	return abs_s64(err) > e->params.step_threshold_ns;
}

static void restart_window(struct ionclock_engine *e,
			   const struct ionclock_sample *s)
{
	e->win[0] = *s;
	e->n = 1;
	e->fit_phc_ns = s->phc_ns;
	e->fit_counter = s->counter;
	e->residual_ns = 0;
}

/*
 * Keep the trusted rate as it stood one and two windows ago, sampled every
 * IONCLOCK_WINDOW trusted samples: freq_older_frac40 predates every sample
 * in the current window.
 */
static void remember_rate(struct ionclock_engine *e)
{
	if (!e->have_freq) {
		e->have_freq = true;
		e->freq_mark_frac40 = e->freq_frac40;
		e->freq_older_frac40 = e->freq_frac40;
		e->trusted_in_window = 0;
	}
	if (++e->trusted_in_window >= IONCLOCK_WINDOW) {
		e->freq_older_frac40 = e->freq_mark_frac40;
		e->freq_mark_frac40 = e->freq_frac40;
		e->trusted_in_window = 0;
	}
}

static void step_detected(struct ionclock_engine *e,
			  const struct ionclock_sample *s)
{
	e->steps_detected++;
	e->generation++;
	restart_window(e, s);
	e->just_stepped = true;
	/* The first reads that measured the rate were not what they seemed. */
	if (!e->have_freq)
		e->rate_measured = false;
}

/*
 * The counter went back (a TSC reset over suspend or hibernation): every
 * sample before says nothing about the new counter values.  Start the
 * window again from @s, keep the trusted rate (the oscillator is the same)
 * and have the next publication take the PHC's time, which ran on meanwhile,
 * if that is later than where the published time stands.
 */
static void counter_went_back(struct ionclock_engine *e,
			      const struct ionclock_sample *s)
{
	e->generation++;
	restart_window(e, s);
	e->bracket_ns = ionclock_counter_to_ns(e, s->half_width);
	e->last_good_counter = s->counter;
	e->counter_reset = true;
	e->just_stepped = true;
	if (!e->have_freq)
		e->rate_measured = false;
}

/* Whether counter @c is far enough behind @ref to be a counter reset. */
static bool counter_behind(const struct ionclock_engine *e, u64 c, u64 ref)
{
	return c < ref && counter_span_ns(e, c, ref) >
			  (s64)IONCLOCK_COUNTER_RESET_NS;
}

void ionclock_engine_add_sample(struct ionclock_engine *e,
				const struct ionclock_sample *s)
{
	u64 min_hw = ~0ULL;
	struct fit f;
	u32 i;

	e->samples_taken++;
	if (e->n && s->counter <= e->win[e->n - 1].counter) {
		if (counter_behind(e, s->counter, e->win[e->n - 1].counter))
			counter_went_back(e, s);
		else
			e->samples_rejected++;
		return;
	}
	/*
	 * A reading much slower than the recent best carries mostly delay:
	 * drop it.  If they keep coming, the PHC read has become slower for
	 * good: take them from then on, until a fast one comes back; the
	 * fit's weights keep them from tilting it while fast ones remain.
	 */
	for (i = 0; i < e->n; i++)
		if (e->win[i].half_width < min_hw)
			min_hw = e->win[i].half_width;
	if (e->n >= IONCLOCK_MIN_FIT && s->half_width > 4 * min_hw + 1) {
		if (e->rejected_in_row < IONCLOCK_MIN_FIT) {
			e->rejected_in_row++;
			e->samples_rejected++;
			return;
		}
	} else {
		e->rejected_in_row = 0;
	}

	/*
	 * Whether the page's bound held: it says so until a sample finds
	 * the PHC inside again and the fit has caught up with its rate.  A
	 * PHC judged implausible is not the reference; the state says that.
	 */
	if (e->state != IONCLOCK_STATE_UNRELIABLE && !e->counter_reset)
		e->bound_degraded = outside_published_bound(e, s);

	/*
	 * Before anything is trusted, a fit of two or three first reads is
	 * too noisy to call a step from (a slow first read under load is
	 * off by its bracket); the residual check below still sees big ones.
	 */
	if (e->n >= IONCLOCK_MIN_FIT || (e->n >= 2 && e->have_freq)) {
		u64 pred = predict(e, e->fit_counter, e->fit_phc_ns,
				   e->fit_freq_frac40, s->counter);
		s64 err = (s64)(s->phc_ns - pred);

		if (abs_s64(err) > e->params.step_threshold_ns) {
			step_detected(e, s);
			return;
		}
	} else if (e->n == 1 && early_step(e, s)) {
		step_detected(e, s);
		return;
	}
	e->just_stepped = false;

	if (e->n == IONCLOCK_WINDOW) {
		memmove(&e->win[0], &e->win[1],
			sizeof(e->win[0]) * (IONCLOCK_WINDOW - 1));
		e->n--;
	}
	e->win[e->n++] = *s;
	/*
	 * Before anything is trusted, or since a disruption, the first
	 * reads are all there is.
	 */
	if (e->state == IONCLOCK_STATE_STARTING || e->disrupted)
		e->last_good_counter = s->counter;
	e->bracket_ns = ionclock_counter_to_ns(e, s->half_width);
	if (e->n < 2) {
		restart_window(e, s);
		return;
	}

	fit_window(e, 0, &f);
	if (f.residual_ns > e->params.step_threshold_ns) {
		/* A step hidden inside a short window: start again from here. */
		step_detected(e, s);
		return;
	}
	e->fit_freq_frac40 = f.freq_frac40;
	if (e->n < IONCLOCK_MIN_FIT) {
		e->fit_phc_ns = s->phc_ns + f.y0;
		e->fit_counter = s->counter;
		e->residual_ns = f.residual_ns;
		/*
		 * Nothing trusted yet: the publisher runs on the nominal
		 * rate, which is as far from the PHC's as these first reads
		 * say, give or take their own uncertainty.  Since a
		 * disruption it runs on the old trusted rate, and that is as
		 * far off as they say.
		 */
		if (!e->have_freq || e->disrupted) {
			e->rate_unc_frac40 =
				add_sat(f.unc_frac40,
					abs_s64(f.freq_frac40 - e->freq_frac40));
			e->rate_measured = true;
		}
		return;
	}
	if (abs_s64(f.freq_frac40) > (u64)frac40_from_ppb(e->params.max_freq_ppb)) {
		if (e->state != IONCLOCK_STATE_UNRELIABLE) {
			e->generation++;
			/*
			 * The window that crossed the limit may already have
			 * pulled the trusted rate most of the way there: run
			 * on the rate trusted before it.
			 */
			if (e->have_freq) {
				e->rate_unc_frac40 =
					add_sat(e->rate_unc_frac40,
						abs_s64(e->freq_frac40 -
							e->freq_older_frac40));
				e->freq_frac40 = e->freq_older_frac40;
			}
		}
		e->state = IONCLOCK_STATE_UNRELIABLE;
		e->fit_phc_ns = s->phc_ns + f.y0;
		e->fit_counter = s->counter;
		return;
	}
	if (e->state != IONCLOCK_STATE_TRACKING && e->state !=
	    IONCLOCK_STATE_STARTING)
		e->generation++;
	e->state = IONCLOCK_STATE_TRACKING;
	e->fit_phc_ns = s->phc_ns + f.y0;
	e->fit_counter = s->counter;
	e->freq_frac40 = f.freq_frac40;
	e->rate_unc_frac40 = window_rate_unc(e, &f);
	e->rate_measured = true;
	e->residual_ns = f.residual_ns;
	e->last_good_counter = s->counter;
	e->disrupted = false;
	remember_rate(e);
}

void ionclock_engine_lost(struct ionclock_engine *e)
{
	if (e->state != IONCLOCK_STATE_HOLDOVER)
		e->generation++;
	e->state = IONCLOCK_STATE_HOLDOVER;
	e->n = 0;
}

/*
 * The kernel stopped (or started again) vouching for the counter across
 * CPUs, e.g. the clocksource watchdog marked the TSC unstable: readers
 * that cached anything must look again, and the page says so.
 */
void ionclock_engine_counter_synced(struct ionclock_engine *e, bool synced)
{
	if (e->counter_unsynced == !synced)
		return;
	e->counter_unsynced = !synced;
	e->generation++;
}

/*
 * Every sample held says nothing of the counter values to come: the
 * machine suspended, the VM stopped or moved, the counter jumped, or the
 * PHC was replaced (disruption.c judges).  Start the window again from
 * the next sample and take the rate as unmeasured: until the next sample
 * the bound grows as if the rate could be anything plausible, from the
 * last sample; from it on, as far as the new samples put it from the
 * trusted rate, until IONCLOCK_MIN_FIT of them re-fit it.  The published
 * time goes on from where it stands and closes its offset to the PHC as
 * after a step (forward at once if step_forward, backward by slewing).
 */
void ionclock_engine_disrupted(struct ionclock_engine *e, u32 cause)
{
	e->generation++;
	e->disruptions++;
	e->disruption_cause = cause;
	e->disrupted = true;
	e->n = 0;
	e->rate_measured = false;
	e->just_stepped = true;
	e->rejected_in_row = 0;
}

/*
 * Whether the publisher steers toward the fit.  After a step the fit starts
 * again from one sample, and one sample cannot tell a stepped PHC from one
 * that now runs at a wrong rate: the published time runs on the trusted
 * rate, neither stepping nor slewing, until IONCLOCK_MIN_FIT samples have
 * shown the new PHC time to be plausible.  Only before anything is trusted
 * (STARTING) is there nothing better to run on than the PHC's first reads.
 */
static bool following(const struct ionclock_engine *e)
{
	if (e->state == IONCLOCK_STATE_STARTING)
		return e->n > 0;
	return e->state == IONCLOCK_STATE_TRACKING && e->n >= IONCLOCK_MIN_FIT;
}

/*
 * The upstream term at TAI @tai_ns: the static upstream_error_ns, or, once
 * a feed has reported, the larger of that floor and the reported error
 * grown by drift_ppb since it was measured.
 */
static u64 upstream_term(const struct ionclock_engine *e, u64 tai_ns)
{
	u64 aged;

	if (!e->upstream_fed)
		return e->params.upstream_ns;
	aged = e->upstream_reported_ns;
	if (tai_ns > e->upstream_measured_tai_ns)
		aged += ionclock_mul_div(tai_ns - e->upstream_measured_tai_ns,
					 e->params.drift_ppb, NSEC_PER_SEC_U);
	return aged > e->params.upstream_ns ? aged : e->params.upstream_ns;
}

void ionclock_engine_publish(struct ionclock_engine *e, u64 now,
			     struct ionclock_bound *b)
{
	s64 max_slew = frac40_from_ppb(e->params.max_slew_ppb);
	s64 slew = 0, off = 0, rate;
	u64 p, growth_ppb, unc_ppb, age_ns, prev_base = e->map.counter_base;
	bool held = e->published && e->upstream_fed &&
		    e->upstream_renewals == e->bound_renewals;
	__int128 mult;

	if (!e->published) {
		if (!e->n)
			return;
		p = predict(e, e->fit_counter, e->fit_phc_ns, e->freq_frac40,
			    now);
		e->published = true;
	} else {
		if (counter_behind(e, now, e->map.counter_base) &&
		    !e->counter_reset) {
			/* Back before any sample showed it: nothing to go on. */
			e->generation++;
			e->n = 0;
			e->counter_reset = true;
			e->last_good_counter = now;
		}
		/* Behind the base, the old mapping stands at its base. */
		p = ionclock_mapping_eval(&e->map, now);
		if (e->counter_reset && e->n) {
			u64 phc = predict(e, e->fit_counter, e->fit_phc_ns,
					  e->freq_frac40, now);

			if (phc > p)
				p = phc;
			e->counter_reset = false;
		}
	}

	/*
	 * The offset to the PHC, wherever there is a PHC to compare with: it
	 * is closed only while following, but it is error all the same while
	 * a step is being confirmed.  In holdover, or with a PHC not trusted,
	 * the last offset known stays in the bound.
	 */
	if (e->n && e->state != IONCLOCK_STATE_UNRELIABLE)
		off = (s64)(predict(e, e->fit_counter, e->fit_phc_ns,
				    e->freq_frac40, now) - p);
	else
		off = e->offset_ns;
	if (following(e)) {
		if (off > (s64)e->params.step_threshold_ns &&
		    e->params.step_forward) {
			p += off;
			off = 0;
		}
		slew = ionclock_smul_div(off, FRAC40,
					 (u64)e->params.slew_time_ms * 1000000);
		if (slew > max_slew)
			slew = max_slew;
		if (slew < -max_slew)
			slew = -max_slew;
	}
	rate = e->freq_frac40 + slew;
	mult = (__int128)e->nominal_mult +
	       (((__int128)e->nominal_mult * rate) >> 40);
	if (mult < 1)
		mult = 1;	/* a positive rate is what keeps time forward */

	e->map.counter_base = now;
	e->map.time_base_ns = p;
	e->map.mult = (u64)mult;
	e->map.shift = e->shift;
	e->offset_ns = off;
	e->slew_frac40 = slew;

	/*
	 * How far the rate run on may be from the PHC's: measured once two
	 * samples have been fitted; before that, anything a plausible PHC
	 * may run at.
	 */
	if (e->rate_measured)
		unc_ppb = ionclock_mul_div(e->rate_unc_frac40, NSEC_PER_SEC_U,
					   FRAC40);
	else
		unc_ppb = e->params.max_freq_ppb +
			  ionclock_mul_div(abs_s64(e->freq_frac40),
					   NSEC_PER_SEC_U, FRAC40);
	age_ns = now > e->last_good_counter ?
		 ionclock_counter_to_ns(e, now - e->last_good_counter) : 0;

	b->bracket_ns = e->bracket_ns;
	b->residual_ns = e->residual_ns;
	b->slew_ns = abs_s64(off);
	b->upstream_ns = upstream_term(e, p);
	b->rate_ns = ionclock_mul_div(age_ns, unc_ppb, NSEC_PER_SEC_U);
	/*
	 * Up to the anchor the time may stand that far ahead (see above).
	 * Since the last good sample, the rate may have been off by its
	 * uncertainty and the counter may have drifted: while tracking that
	 * is a poll period, in holdover all the time since.
	 */
	b->total_ns = add_sat(b->bracket_ns + b->residual_ns + b->slew_ns +
			      IONCLOCK_ANCHOR_AHEAD_NS,
			      add_sat(b->upstream_ns,
				      add_sat(b->rate_ns,
					      ionclock_mul_div(age_ns,
							       e->params.drift_ppb,
							       NSEC_PER_SEC_U))));
	growth_ppb = e->params.drift_ppb + unc_ppb +
		     ionclock_mul_div(abs_s64(slew), NSEC_PER_SEC_U, FRAC40);
	/* The fed term keeps ageing between publications too. */
	if (e->upstream_fed)
		growth_ppb += e->params.drift_ppb;
	b->growth_frac32 = ionclock_mul_div(growth_ppb, 1ULL << 32,
					    NSEC_PER_SEC_U);
	/*
	 * Nothing new from the PTP domain since the last publication (its
	 * grandmaster lost, or the feed gone): the PHC's error against it is
	 * no better known than then, so the bound does not fall below the
	 * last one, grown at its rate, even where the local terms shrink.
	 */
	if (held && now > prev_base) {
		u64 was = add_sat(e->bound.total_ns,
				  ionclock_mul_div(ionclock_counter_to_ns(e, now - prev_base),
						   e->bound.growth_frac32,
						   1ULL << 32));

		if (b->total_ns < was)
			b->total_ns = was;
	}
	e->bound_renewals = e->upstream_renewals;
	e->bound = *b;
}
