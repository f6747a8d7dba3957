package crawl

import "time"

// Jitter is the share of the interval by which a refresh moves, either way.
const Jitter = 0.1

// NextRefresh is how long to wait before the next refresh, which is due
// every interval after last (the last refresh's end; zero for never),
// moved by up to ±Jitter of the interval (rnd gives [0,1)) so that indexes
// started together do not ask the same hosts at the same instant. An
// overdue refresh starts within Jitter of the interval, at most a minute.
func NextRefresh(last time.Time, interval time.Duration, now time.Time, rnd func() float64) time.Duration {
	spread := time.Duration(float64(interval) * Jitter)
	if last.IsZero() || !last.Add(interval-spread).After(now) {
		return time.Duration(rnd() * float64(min(spread, time.Minute)))
	}
	wait := last.Add(interval).Sub(now) + time.Duration((2*rnd()-1)*float64(spread))
	return max(wait, 0)
}
