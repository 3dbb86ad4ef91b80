//! Teams, their members over time and their care relationships (S1), in a clinic's store.
//! Nothing is deleted: ending a membership or a relationship sets `ended_at`.

use crate::clinic::{ClinicStore, ClinicTx};
use crate::error::StoreError;
use crate::sql;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamRow {
    pub id: Vec<u8>,
    /// Sealed under the clinic's people key: free text that could name a patient.
    pub name: Vec<u8>,
    pub created_at: i64,
}

/// One spell of membership of a team, or of a team's care of a patient: from `since`
/// until `ended_at` (open while `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpellRow {
    pub team_id: Vec<u8>,
    /// The member of staff (membership) or the patient (care).
    pub other_id: Vec<u8>,
    pub since: i64,
    pub ended_at: Option<i64>,
}

type SpellTuple = (Vec<u8>, Vec<u8>, i64, Option<i64>);

fn spell_from(t: SpellTuple) -> SpellRow {
    SpellRow {
        team_id: t.0,
        other_id: t.1,
        since: t.2,
        ended_at: t.3,
    }
}

impl ClinicStore {
    pub async fn team(&self, id: &[u8]) -> Result<Option<TeamRow>, StoreError> {
        let row: Option<(Vec<u8>, Vec<u8>, i64)> =
            sqlx::query_as("SELECT id, name, created_at FROM teams WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.db().pool)
                .await?;
        Ok(row.map(|(id, name, created_at)| TeamRow {
            id,
            name,
            created_at,
        }))
    }

    pub async fn teams(&self) -> Result<Vec<TeamRow>, StoreError> {
        let rows: Vec<(Vec<u8>, Vec<u8>, i64)> =
            sqlx::query_as("SELECT id, name, created_at FROM teams ORDER BY created_at, id")
                .fetch_all(&self.db().pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, created_at)| TeamRow {
                id,
                name,
                created_at,
            })
            .collect())
    }

    /// Every membership the team has had, oldest first (the history).
    pub async fn team_memberships(&self, team_id: &[u8]) -> Result<Vec<SpellRow>, StoreError> {
        let rows: Vec<SpellTuple> = sqlx::query_as(
            "SELECT team_id, staff_id, since, ended_at FROM team_members WHERE team_id = $1 ORDER BY since, staff_id",
        )
        .bind(team_id)
        .fetch_all(&self.db().pool)
        .await?;
        Ok(rows.into_iter().map(spell_from).collect())
    }

    /// Every care relationship the team has had, oldest first (the history).
    pub async fn team_care_history(&self, team_id: &[u8]) -> Result<Vec<SpellRow>, StoreError> {
        let rows: Vec<SpellTuple> = sqlx::query_as(
            "SELECT team_id, patient_id, since, ended_at FROM team_care WHERE team_id = $1 ORDER BY since, patient_id",
        )
        .bind(team_id)
        .fetch_all(&self.db().pool)
        .await?;
        Ok(rows.into_iter().map(spell_from).collect())
    }

    pub async fn is_team_member(
        &self,
        team_id: &[u8],
        staff_id: &[u8],
    ) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM team_members WHERE team_id = $1 AND staff_id = $2 AND ended_at IS NULL",
        )
        .bind(team_id)
        .bind(staff_id)
        .fetch_one(&self.db().pool)
        .await?;
        Ok(n > 0)
    }

    pub async fn team_in_care(
        &self,
        team_id: &[u8],
        patient_id: &[u8],
    ) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM team_care WHERE team_id = $1 AND patient_id = $2 AND ended_at IS NULL",
        )
        .bind(team_id)
        .bind(patient_id)
        .fetch_one(&self.db().pool)
        .await?;
        Ok(n > 0)
    }

    /// A team through which this person treats this patient now: a current member of a
    /// team with a current care relationship. Both ends are checked in one query, so an
    /// ended membership or relationship counts for nothing from the moment it ends.
    pub async fn care_team_of(
        &self,
        staff_id: &[u8],
        patient_id: &[u8],
    ) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT c.team_id FROM team_care c JOIN team_members m ON m.team_id = c.team_id \
             WHERE m.staff_id = $1 AND m.ended_at IS NULL AND c.patient_id = $2 AND c.ended_at IS NULL \
             ORDER BY c.since, c.team_id LIMIT 1",
        )
        .bind(staff_id)
        .bind(patient_id)
        .fetch_optional(&self.db().pool)
        .await?)
    }
}

impl ClinicTx {
    pub async fn insert_team(&mut self, row: &TeamRow) -> Result<(), StoreError> {
        sql::query("INSERT INTO teams (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(&row.id)
            .bind(&row.name)
            .bind(row.created_at)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn add_team_member(
        &mut self,
        team_id: &[u8],
        staff_id: &[u8],
        now: i64,
    ) -> Result<(), StoreError> {
        sql::query(
            "INSERT INTO team_members (team_id, staff_id, since, ended_at) VALUES ($1, $2, $3, NULL)",
        )
        .bind(team_id)
        .bind(staff_id)
        .bind(now)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn end_team_member(
        &mut self,
        team_id: &[u8],
        staff_id: &[u8],
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = sql::query(
            "UPDATE team_members SET ended_at = $1 WHERE team_id = $2 AND staff_id = $3 AND ended_at IS NULL",
        )
        .bind(now)
        .bind(team_id)
        .bind(staff_id)
        .execute(self.conn())
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    pub async fn start_team_care(
        &mut self,
        team_id: &[u8],
        patient_id: &[u8],
        now: i64,
    ) -> Result<(), StoreError> {
        sql::query(
            "INSERT INTO team_care (team_id, patient_id, since, ended_at) VALUES ($1, $2, $3, NULL)",
        )
        .bind(team_id)
        .bind(patient_id)
        .bind(now)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn end_team_care(
        &mut self,
        team_id: &[u8],
        patient_id: &[u8],
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = sql::query(
            "UPDATE team_care SET ended_at = $1 WHERE team_id = $2 AND patient_id = $3 AND ended_at IS NULL",
        )
        .bind(now)
        .bind(team_id)
        .bind(patient_id)
        .execute(self.conn())
        .await?
        .rows_affected();
        Ok(n > 0)
    }
}
