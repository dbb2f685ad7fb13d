//! The client's own limits, shared by the approaches' harness (`common`)
//! and `dbio`'s own connections, so that neither depends on the other for
//! them:
//!
//! - [`deadline`]: a blocking call bounded by a thread of its own, a timer
//!   future for any runtime, and why a connect did not finish in time;
//! - [`memory`]: a watchdog on the process's resident memory, whose
//!   reaction each binary chooses (the harness cancels its run's queries).

pub mod deadline;
pub mod memory;

/// A panic's message (`panic!`'s text), or a word for a payload of
/// another type.
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}
