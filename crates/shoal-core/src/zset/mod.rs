//! Placeholder for the zset type (its commands land with the data-structures work).

pub mod ostree;

/// A zset value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZSet {}

/// Commands of this family.
pub const COMMANDS: &[crate::table::CommandSpec] = &[];

/// A parsed command of this family.
#[derive(Clone, Debug, PartialEq)]
pub enum ZSetCommand {}

impl ZSetCommand {
    pub fn apply(self, _db: &mut crate::Db, _ctx: &crate::Ctx) -> crate::Reply {
        match self {}
    }
}

impl crate::snapshot::Persist for ZSet {
    fn encode(&self, _w: &mut crate::snapshot::Writer) {}
    fn decode(
        _r: &mut crate::snapshot::Reader<'_>,
    ) -> Result<Self, crate::snapshot::SnapshotError> {
        Ok(ZSet {})
    }
}
