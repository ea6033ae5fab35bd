//! Faults during a run (`--fault`, `--scenario`): what goes wrong when ([`plan`]) and what
//! it did to the run ([`effect`]). The target carries the orders out: the embedded server
//! through its control pipe, containers through Docker.

pub mod effect;
pub mod plan;
pub mod retries;

pub use effect::Effect;
pub use plan::{FaultSpec, Scenario, Step};
pub use retries::Retries;
