//! Which arguments of a command are keys: from the table's first/last/step, plus
//! the commands whose keys move (their positions depend on other arguments).

use crate::CommandSpec;

/// Indexes into `args` (0 = the command name) that hold keys.
pub fn key_indexes(spec: &CommandSpec, args: &[&[u8]]) -> Vec<usize> {
    let argc = args.len() as i32;
    if spec.first_key <= 0 {
        return Vec::new();
    }
    let last = if spec.last_key < 0 { argc + spec.last_key } else { spec.last_key };
    let step = spec.step.max(1);
    let mut out = Vec::new();
    let mut i = spec.first_key;
    while i <= last && i < argc {
        out.push(i as usize);
        i += step;
    }
    out
}
