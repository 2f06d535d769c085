//! Whether the payment platform can be reached (E15): every call the
//! service makes to it goes through [`Monitored`], which records the
//! outcome. "Unreachable" is no answer at all, a timeout or a 5xx (the
//! errors worth the same call again later); a refusal or a not-found is an
//! answer, so the platform is there. Emergency mode reads
//! [`PlatformHealth::failing_since`].
//!
//! Kept in memory: after a restart the platform counts as reachable until
//! a call fails again (the payment job's queries and the kiosks' orders
//! call it often enough while anything is open).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use exam_payment::bill::TradeBill;
use exam_payment::crypto::SignedHeaders;
use exam_payment::gateway::{NativeOrder, RefundOrder};
use exam_payment::model::{Refund, Transaction};
use exam_payment::notify::Notification;
use exam_payment::{NotifyError, PaymentError, PaymentGateway};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthState {
    /// The first failure since the last success.
    pub failing_since: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_ok: Option<DateTime<Utc>>,
}

impl HealthState {
    /// Pure: the state after one call's outcome at `now`.
    pub fn after<T>(mut self, r: &Result<T, PaymentError>, now: DateTime<Utc>) -> Self {
        match r {
            Err(e) if unreachable(e) => {
                self.failing_since.get_or_insert(now);
                self.last_error = Some(e.to_string());
            }
            _ => {
                self.failing_since = None;
                self.last_ok = Some(now);
            }
        }
        self
    }
}

/// No answer from the platform (as opposed to an answer that refuses).
pub fn unreachable(e: &PaymentError) -> bool {
    matches!(
        e,
        PaymentError::Timeout | PaymentError::Connection(_) | PaymentError::Unavailable { .. }
    )
}

/// Shared between the gateway wrapper and the readers.
#[derive(Debug, Clone, Default)]
pub struct PlatformHealth(Arc<Mutex<HealthState>>);

impl PlatformHealth {
    pub fn record<T>(&self, r: &Result<T, PaymentError>, now: DateTime<Utc>) {
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *g = std::mem::take(&mut *g).after(r, now);
    }

    pub fn state(&self) -> HealthState {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn failing_since(&self) -> Option<DateTime<Utc>> {
        self.state().failing_since
    }
}

/// A gateway that records every call's outcome in a [`PlatformHealth`].
pub struct Monitored<G> {
    pub inner: G,
    pub health: PlatformHealth,
}

type Fut<'a, T> = Pin<Box<dyn Future<Output = Result<T, PaymentError>> + Send + 'a>>;

impl<G: PaymentGateway> Monitored<G> {
    fn watch<'a, T: Send + 'a>(
        &'a self,
        f: impl Future<Output = Result<T, PaymentError>> + Send + 'a,
    ) -> Fut<'a, T> {
        Box::pin(async move {
            let r = f.await;
            self.health.record(&r, Utc::now());
            r
        })
    }
}

// The trait is an `async_trait`; written out by hand here (the same
// signatures the macro makes) rather than adding the macro to this crate.
impl<G: PaymentGateway> PaymentGateway for Monitored<G> {
    fn create_native<'a, 'b, 'c>(&'a self, order: &'b NativeOrder) -> Fut<'c, String>
    where
        'a: 'c,
        'b: 'c,
        Self: 'c,
    {
        self.watch(self.inner.create_native(order))
    }

    fn query_order<'a, 'b, 'c>(&'a self, out_trade_no: &'b str) -> Fut<'c, Transaction>
    where
        'a: 'c,
        'b: 'c,
        Self: 'c,
    {
        self.watch(self.inner.query_order(out_trade_no))
    }

    fn close_order<'a, 'b, 'c>(&'a self, out_trade_no: &'b str) -> Fut<'c, ()>
    where
        'a: 'c,
        'b: 'c,
        Self: 'c,
    {
        self.watch(self.inner.close_order(out_trade_no))
    }

    fn refund<'a, 'b, 'c>(&'a self, refund: &'b RefundOrder) -> Fut<'c, Refund>
    where
        'a: 'c,
        'b: 'c,
        Self: 'c,
    {
        self.watch(self.inner.refund(refund))
    }

    fn query_refund<'a, 'b, 'c>(&'a self, out_refund_no: &'b str) -> Fut<'c, Refund>
    where
        'a: 'c,
        'b: 'c,
        Self: 'c,
    {
        self.watch(self.inner.query_refund(out_refund_no))
    }

    fn trade_bill<'a, 'c>(&'a self, day: NaiveDate) -> Fut<'c, TradeBill>
    where
        'a: 'c,
        Self: 'c,
    {
        self.watch(self.inner.trade_bill(day))
    }

    fn parse_notification(
        &self,
        headers: &SignedHeaders,
        body: &[u8],
    ) -> Result<Notification, NotifyError> {
        self.inner.parse_notification(headers, body)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    #[test]
    fn failing_since_the_first_failure_until_an_answer() {
        let t0 = Utc.with_ymd_and_hms(2026, 12, 5, 8, 0, 0).unwrap();
        let down: Result<(), _> = Err(PaymentError::Connection("refused".into()));
        let s = HealthState::default().after(&down, t0);
        assert_eq!(s.failing_since, Some(t0));
        let s = s.after(
            &Err::<(), _>(PaymentError::Timeout),
            t0 + Duration::minutes(5),
        );
        assert_eq!(s.failing_since, Some(t0), "kept from the first failure");
        assert_eq!(
            s.last_error.as_deref(),
            Some(&*PaymentError::Timeout.to_string())
        );
        // A refusal is an answer: the platform is there.
        let refused: Result<(), _> = Err(PaymentError::Malformed("x".into()));
        let s = s.after(&refused, t0 + Duration::minutes(6));
        assert_eq!(s.failing_since, None);
        assert_eq!(s.last_ok, Some(t0 + Duration::minutes(6)));
        let s = s.after(&down, t0 + Duration::minutes(7));
        assert_eq!(s.failing_since, Some(t0 + Duration::minutes(7)));
        let s = s.after(&Ok(()), t0 + Duration::minutes(8));
        assert_eq!(s.failing_since, None);
    }
}
