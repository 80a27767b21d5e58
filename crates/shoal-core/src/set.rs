//! Placeholder for the set type (its commands land with the data-structures work).

/// A set value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Set {}

/// Commands of this family.
pub const COMMANDS: &[crate::table::CommandSpec] = &[];

/// A parsed command of this family.
#[derive(Clone, Debug, PartialEq)]
pub enum SetCommand {}

impl SetCommand {
    pub fn apply(self, _db: &mut crate::Db, _ctx: &crate::Ctx) -> crate::Reply {
        match self {}
    }
}

impl crate::snapshot::Persist for Set {
    fn encode(&self, _w: &mut crate::snapshot::Writer) {}
    fn decode(
        _r: &mut crate::snapshot::Reader<'_>,
    ) -> Result<Self, crate::snapshot::SnapshotError> {
        Ok(Set {})
    }
}
