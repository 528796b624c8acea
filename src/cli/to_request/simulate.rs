//! `simulate`'s arguments into the simulator's spec.

use super::*;

/// `KIND@HOUR[.N][:ACCOUNT/REGION]`: the chain part hits one chain of an
/// estate (`*` for any account or region).
type Aimed = (Vec<Damage>, Vec<Option<(String, String)>>);

fn parse_damage(given: &[String]) -> Result<Aimed, SimError> {
    let invalid = |m: String| SimError::Invalid(m);
    let (mut damage, mut chains) = (Vec::new(), Vec::new());
    for d in given {
        let (what, chain) = match d.split_once(':') {
            Some((w, c)) => {
                let (a, r) = c
                    .split_once('/')
                    .ok_or_else(|| invalid(format!("damage {d:?}: the chain is ACCOUNT/REGION")))?;
                (w, Some((a.to_string(), r.to_string())))
            }
            None => (d.as_str(), None),
        };
        damage.push(what.parse::<Damage>().map_err(invalid)?);
        chains.push(chain);
    }
    Ok((damage, chains))
}

impl SimulateArgs {
    /// The simulator's spec, and the accounts and regions of an estate.
    pub fn to_spec(&self) -> Result<(SimSpec, Vec<String>, Vec<String>), SimError> {
        let invalid = |m: String| SimError::Invalid(m);
        let start = parse_user_time(&self.start_time).map_err(|e| invalid(e.to_string()))?;
        let (damage, damage_chains) = parse_damage(&self.damage)?;
        let switch_bucket = match &self.switch_bucket {
            None => None,
            Some(s) => {
                let (b, h) = s
                    .rsplit_once('@')
                    .ok_or_else(|| invalid(format!("--switch-bucket {s:?} is not BUCKET@HOUR")))?;
                let h = h
                    .parse()
                    .map_err(|_| invalid(format!("--switch-bucket {s:?}: bad hour")))?;
                Some((b.to_string(), h))
            }
        };
        let spec = SimSpec {
            out: self.out.clone(),
            start,
            hours: self.hours,
            logs_per_hour: self.logs_per_hour,
            records_per_log: self.records_per_log,
            bucket: self.bucket.clone(),
            log_bucket: self.log_bucket.clone(),
            account: self.account_id.clone(),
            trail_name: self.trail_name.clone(),
            home_region: self.home_region.clone(),
            region: self
                .region
                .clone()
                .unwrap_or_else(|| self.home_region.clone()),
            prefix: self.s3_prefix.clone(),
            org_id: self.organization_id.clone(),
            window_offset_seconds: self.window_offset_seconds,
            seed: self.seed,
            damage,
            damage_chains,
            keys_file: self.keys_file.clone(),
            backfill: self.backfill,
            rotate_key: self.rotate_key,
            switch_bucket,
            signer: None,
            no_gap_records: self.no_gap_records,
            trail_account: None,
        };
        let list = |l: &Option<String>, default: &str| -> Vec<String> {
            l.as_deref()
                .unwrap_or(default)
                .split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        };
        let accounts = list(&self.accounts, &spec.account);
        let regions = list(&self.regions, &spec.region);
        for (a, r) in spec.damage_chains.iter().flatten() {
            let known = |x: &str, all: &[String]| x == "*" || all.iter().any(|y| y == x);
            if !known(a, &accounts) || !known(r, &regions) {
                return Err(invalid(format!(
                    "damage for chain {a}/{r}: no such account and region among --accounts and \
                     --regions"
                )));
            }
        }
        Ok((spec, accounts, regions))
    }
}
