//! Placeholder for streams (their commands land with the streams work).

/// A stream value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stream {}

/// Commands of this family.
pub const COMMANDS: &[crate::table::CommandSpec] = &[];

/// A parsed command of this family.
#[derive(Clone, Debug, PartialEq)]
pub enum StreamCommand {}

impl StreamCommand {
    pub fn apply(self, _db: &mut crate::Db, _ctx: &crate::Ctx) -> crate::Reply {
        match self {}
    }
}

impl crate::snapshot::Persist for Stream {
    fn encode(&self, _w: &mut crate::snapshot::Writer) {}
    fn decode(
        _r: &mut crate::snapshot::Reader<'_>,
    ) -> Result<Self, crate::snapshot::SnapshotError> {
        Ok(Stream {})
    }
}
