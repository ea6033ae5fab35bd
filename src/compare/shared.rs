//! The one target both sides of a paired comparison measure against: started (or
//! located) once from the environment, as every benchmark would, and handed to the workers
//! as remote seeds, so neither side brings a server of its own.

use super::lockstep;
use crate::cluster::{Error, Target};
use crate::meta::Fingerprint;

pub struct SharedTarget {
    /// What the comparison's own client found there.
    pub fingerprint: Fingerprint,
    /// The variables that point a worker at it.
    pub env: Vec<(String, String)>,
    /// Keeps the embedded server or the containers up until the comparison ends.
    _target: Target,
}

impl SharedTarget {
    pub fn start() -> Result<SharedTarget, Error> {
        let target = Target::from_env()?;
        let runtime = crate::driver::runtime(1).map_err(Error::Runtime)?;
        let policy = target.client_policy();
        let fingerprint = runtime.block_on(async {
            let client = target.connect(&policy).await?;
            let fingerprint = target.fingerprint(&client).await;
            let _ = client.close().await;
            Ok::<_, Error>(fingerprint)
        })?;
        let env = lockstep::target_env(&target.seeds(), policy.use_services_alternate);
        Ok(SharedTarget {
            fingerprint,
            env,
            _target: target,
        })
    }
}
