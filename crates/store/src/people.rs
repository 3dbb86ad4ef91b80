//! Staff, authorisations (and the clinics they cover), care relationships and emergency
//! access in a clinic's store.

use crate::clinic::{ClinicStore, ClinicTx};
use crate::error::StoreError;
use crate::sql;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRow {
    pub id: Vec<u8>,
    /// Sealed under the clinic's people key.
    pub name: Vec<u8>,
    pub hpr: Option<String>,
    pub active: bool,
    pub created_at: i64,
    pub deactivated_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorisationRow {
    pub id: Vec<u8>,
    pub staff_id: Vec<u8>,
    pub role: String,
    pub valid_from: i64,
    pub valid_until: i64,
    pub granted_by: String,
    pub granted_at: i64,
    pub ended_at: Option<i64>,
    pub ended_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmergencyRow {
    pub id: Vec<u8>,
    pub staff_id: Vec<u8>,
    pub patient_id: Vec<u8>,
    /// Sealed under the patient's data key: the stated reason is free text.
    pub reason: Vec<u8>,
    pub granted_at: i64,
    pub expires_at: i64,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<i64>,
    pub review_note: Option<String>,
}

type StaffTuple = (Vec<u8>, Vec<u8>, Option<String>, i64, i64, Option<i64>);
type AuthTuple = (
    Vec<u8>,
    Vec<u8>,
    String,
    i64,
    i64,
    String,
    i64,
    Option<i64>,
    Option<String>,
);
type EmergencyTuple = (
    Vec<u8>,
    Vec<u8>,
    Vec<u8>,
    Vec<u8>,
    i64,
    i64,
    Option<String>,
    Option<i64>,
    Option<String>,
);

fn staff_from(t: StaffTuple) -> StaffRow {
    StaffRow {
        id: t.0,
        name: t.1,
        hpr: t.2,
        active: t.3 != 0,
        created_at: t.4,
        deactivated_at: t.5,
    }
}

fn auth_from(t: AuthTuple) -> AuthorisationRow {
    AuthorisationRow {
        id: t.0,
        staff_id: t.1,
        role: t.2,
        valid_from: t.3,
        valid_until: t.4,
        granted_by: t.5,
        granted_at: t.6,
        ended_at: t.7,
        ended_by: t.8,
    }
}

fn emergency_from(t: EmergencyTuple) -> EmergencyRow {
    EmergencyRow {
        id: t.0,
        staff_id: t.1,
        patient_id: t.2,
        reason: t.3,
        granted_at: t.4,
        expires_at: t.5,
        reviewed_by: t.6,
        reviewed_at: t.7,
        review_note: t.8,
    }
}

const STAFF: &str = "SELECT id, name, hpr, active, created_at, deactivated_at FROM staff";
const AUTHS: &str = "SELECT id, staff_id, role, valid_from, valid_until, granted_by, granted_at, ended_at, ended_by FROM authorisations";
const EMERGENCY: &str = "SELECT id, staff_id, patient_id, reason, granted_at, expires_at, reviewed_by, reviewed_at, review_note FROM emergency_access";

impl ClinicStore {
    pub async fn staff(&self, id: &[u8]) -> Result<Option<StaffRow>, StoreError> {
        let row: Option<StaffTuple> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{STAFF} WHERE id = $1")))
                .bind(id)
                .fetch_optional(&self.db().pool)
                .await?;
        Ok(row.map(staff_from))
    }

    /// The sealed identity number of a member of staff, if linked since migration 13.
    pub async fn staff_person_number(&self, id: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let row: Option<(Option<Vec<u8>>,)> =
            sqlx::query_as("SELECT person_number FROM staff WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.db().pool)
                .await?;
        Ok(row.and_then(|(sealed,)| sealed))
    }

    pub async fn all_staff(&self) -> Result<Vec<StaffRow>, StoreError> {
        let rows: Vec<StaffTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{STAFF} ORDER BY created_at, id"
        )))
        .fetch_all(&self.db().pool)
        .await?;
        Ok(rows.into_iter().map(staff_from).collect())
    }

    /// Every authorisation a person has ever had, newest first (the history, S2).
    pub async fn authorisations_of(
        &self,
        staff_id: &[u8],
    ) -> Result<Vec<AuthorisationRow>, StoreError> {
        let rows: Vec<AuthTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{AUTHS} WHERE staff_id = $1 ORDER BY granted_at DESC, id"
        )))
        .bind(staff_id)
        .fetch_all(&self.db().pool)
        .await?;
        Ok(rows.into_iter().map(auth_from).collect())
    }

    /// The authorisations in force at `now` (not ended, within their dates).
    pub async fn authorisations_in_force(
        &self,
        now: i64,
    ) -> Result<Vec<AuthorisationRow>, StoreError> {
        let rows: Vec<AuthTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{AUTHS} WHERE ended_at IS NULL AND valid_from <= $1 AND valid_until > $1 ORDER BY staff_id, role"
        )))
        .bind(now)
        .fetch_all(&self.db().pool)
        .await?;
        Ok(rows.into_iter().map(auth_from).collect())
    }

    pub async fn in_care_relationship(
        &self,
        staff_id: &[u8],
        patient_id: &[u8],
    ) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM care_relationships WHERE staff_id = $1 AND patient_id = $2 AND ended_at IS NULL",
        )
        .bind(staff_id)
        .bind(patient_id)
        .fetch_one(&self.db().pool)
        .await?;
        Ok(n > 0)
    }

    /// The patients this person has a need for at `now`, each with whether it is a care
    /// relationship (their own, or a team's they are a current member of; `true`) or only
    /// emergency access in force (`false`): what `in_care_relationship`, `care_team_of`
    /// and `emergency_in_force` say one patient at a time, for a whole list at once.
    pub async fn needs_of_staff(
        &self,
        staff_id: &[u8],
        now: i64,
    ) -> Result<Vec<(Vec<u8>, bool)>, StoreError> {
        let rows: Vec<(Vec<u8>, i64)> = sqlx::query_as(
            "SELECT patient_id, CAST(1 AS BIGINT) FROM care_relationships WHERE staff_id = $1 AND ended_at IS NULL \
             UNION ALL SELECT c.patient_id, CAST(1 AS BIGINT) FROM team_care c JOIN team_members m ON m.team_id = c.team_id \
             WHERE m.staff_id = $1 AND m.ended_at IS NULL AND c.ended_at IS NULL \
             UNION ALL SELECT patient_id, CAST(0 AS BIGINT) FROM emergency_access WHERE staff_id = $1 AND expires_at > $2",
        )
        .bind(staff_id)
        .bind(now)
        .fetch_all(&self.db().pool)
        .await?;
        Ok(rows.into_iter().map(|(p, care)| (p, care == 1)).collect())
    }

    /// Emergency access of this person to this patient still in force at `now`.
    pub async fn emergency_in_force(
        &self,
        staff_id: &[u8],
        patient_id: &[u8],
        now: i64,
    ) -> Result<Option<EmergencyRow>, StoreError> {
        let row: Option<EmergencyTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{EMERGENCY} WHERE staff_id = $1 AND patient_id = $2 AND expires_at > $3 ORDER BY granted_at DESC LIMIT 1"
        )))
        .bind(staff_id)
        .bind(patient_id)
        .bind(now)
        .fetch_optional(&self.db().pool)
        .await?;
        Ok(row.map(emergency_from))
    }

    /// Emergency accesses nobody has reviewed yet, oldest first (S3).
    pub async fn emergency_unreviewed(&self) -> Result<Vec<EmergencyRow>, StoreError> {
        let rows: Vec<EmergencyTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{EMERGENCY} WHERE reviewed_at IS NULL ORDER BY granted_at"
        )))
        .fetch_all(&self.db().pool)
        .await?;
        Ok(rows.into_iter().map(emergency_from).collect())
    }

    pub async fn emergency(&self, id: &[u8]) -> Result<Option<EmergencyRow>, StoreError> {
        let row: Option<EmergencyTuple> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{EMERGENCY} WHERE id = $1")))
                .bind(id)
                .fetch_optional(&self.db().pool)
                .await?;
        Ok(row.map(emergency_from))
    }
}

impl ClinicStore {
    /// When the person completed `course`, latest first.
    pub async fn training_of(&self, staff_id: &[u8], course: &str) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT completed_at FROM training WHERE staff_id = $1 AND course = $2 ORDER BY completed_at DESC",
        )
        .bind(staff_id)
        .bind(course)
        .fetch_all(&self.db().pool)
        .await?)
    }

    pub async fn setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT value FROM clinic_settings WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.db().pool)
                .await?,
        )
    }

    /// The time of the latest access review of each authorisation that has one.
    pub async fn latest_reviews(&self) -> Result<Vec<(Vec<u8>, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT grant_id, MAX(reviewed_at) FROM access_reviews GROUP BY grant_id",
        )
        .fetch_all(&self.db().pool)
        .await?)
    }

    /// The patients a person is in a care relationship with now: their own, and those of
    /// every team they are a current member of (each patient once).
    pub async fn patients_in_care_of(&self, staff_id: &[u8]) -> Result<Vec<Vec<u8>>, StoreError> {
        let rows: Vec<(Vec<u8>, i64)> = sqlx::query_as(
            "SELECT patient_id, MIN(since) AS first_since FROM (\
               SELECT patient_id, since FROM care_relationships WHERE staff_id = $1 AND ended_at IS NULL \
               UNION ALL \
               SELECT c.patient_id, c.since FROM team_care c JOIN team_members m ON m.team_id = c.team_id \
               WHERE m.staff_id = $1 AND m.ended_at IS NULL AND c.ended_at IS NULL\
             ) AS cared GROUP BY patient_id ORDER BY first_since, patient_id",
        )
        .bind(staff_id)
        .fetch_all(&self.db().pool)
        .await?;
        Ok(rows.into_iter().map(|(id, _)| id).collect())
    }

    /// One authorisation by its grant id.
    pub async fn authorisation(&self, id: &[u8]) -> Result<Option<AuthorisationRow>, StoreError> {
        let row: Option<AuthTuple> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{AUTHS} WHERE id = $1")))
                .bind(id)
                .fetch_optional(&self.db().pool)
                .await?;
        Ok(row.map(auth_from))
    }

    /// The clinics each authorisation covering several clinics was granted for, as
    /// `(grant id, org number)` pairs. Grants for this clinic alone have none.
    pub async fn authorisation_clinics(&self) -> Result<Vec<(Vec<u8>, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT grant_id, org_number FROM authorisation_clinics ORDER BY grant_id, org_number",
        )
        .fetch_all(&self.db().pool)
        .await?)
    }

    /// The member of staff with this identity-number blind index, if any.
    pub async fn staff_by_index(&self, index: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT id FROM staff WHERE person_number_index = $1")
                .bind(index)
                .fetch_optional(&self.db().pool)
                .await?,
        )
    }
}

impl ClinicTx {
    pub async fn insert_training(
        &mut self,
        staff_id: &[u8],
        course: &str,
        by: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sql::query("INSERT INTO training (staff_id, course, completed_at, recorded_by) VALUES ($1, $2, $3, $4)")
            .bind(staff_id)
            .bind(course)
            .bind(now)
            .bind(by)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn set_setting(&mut self, name: &str, value: &str) -> Result<(), StoreError> {
        sql::query(
            "INSERT INTO clinic_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(name)
        .bind(value)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn insert_access_review(
        &mut self,
        grant_id: &[u8],
        reviewer: &str,
        decision: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sql::query("INSERT INTO access_reviews (grant_id, reviewed_at, reviewer, decision) VALUES ($1, $2, $3, $4)")
            .bind(grant_id)
            .bind(now)
            .bind(reviewer)
            .bind(decision)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Links a member of staff to their identity number: its blind index (for logins) and
    /// the number itself, sealed (to find the same person in another clinic, S2).
    pub async fn set_staff_person_number(
        &mut self,
        staff_id: &[u8],
        index: &[u8],
        sealed: &[u8],
    ) -> Result<bool, StoreError> {
        let n = sql::query(
            "UPDATE staff SET person_number_index = $1, person_number = $2 WHERE id = $3",
        )
        .bind(index)
        .bind(sealed)
        .bind(staff_id)
        .execute(self.conn())
        .await
        .map_err(StoreError::from_insert)?
        .rows_affected();
        Ok(n > 0)
    }

    pub async fn insert_staff(&mut self, row: &StaffRow) -> Result<(), StoreError> {
        sql::query("INSERT INTO staff (id, name, hpr, active, created_at, deactivated_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&row.id)
            .bind(&row.name)
            .bind(row.hpr.as_deref())
            .bind(i64::from(row.active))
            .bind(row.created_at)
            .bind(row.deactivated_at)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Deactivates a person and ends every authorisation they hold, at `now`.
    pub async fn deactivate_staff(
        &mut self,
        staff_id: &[u8],
        by: &str,
        now: i64,
    ) -> Result<u64, StoreError> {
        sql::query("UPDATE staff SET active = 0, deactivated_at = $1 WHERE id = $2 AND active = 1")
            .bind(now)
            .bind(staff_id)
            .execute(self.conn())
            .await?;
        let ended = sql::query("UPDATE authorisations SET ended_at = $1, ended_by = $2 WHERE staff_id = $3 AND ended_at IS NULL")
            .bind(now)
            .bind(by)
            .bind(staff_id)
            .execute(self.conn())
            .await?
            .rows_affected();
        // Someone who leaves leaves their teams too, so the record shows when (S1, S2).
        sql::query(
            "UPDATE team_members SET ended_at = $1 WHERE staff_id = $2 AND ended_at IS NULL",
        )
        .bind(now)
        .bind(staff_id)
        .execute(self.conn())
        .await?;
        Ok(ended)
    }

    pub async fn insert_authorisation(&mut self, row: &AuthorisationRow) -> Result<(), StoreError> {
        sql::query(
            "INSERT INTO authorisations (id, staff_id, role, valid_from, valid_until, granted_by, granted_at, ended_at, ended_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&row.id)
        .bind(&row.staff_id)
        .bind(&row.role)
        .bind(row.valid_from)
        .bind(row.valid_until)
        .bind(&row.granted_by)
        .bind(row.granted_at)
        .bind(row.ended_at)
        .bind(row.ended_by.as_deref())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Records the clinics an authorisation covering several clinics was granted for.
    pub async fn insert_authorisation_clinics(
        &mut self,
        grant_id: &[u8],
        clinics: &[String],
    ) -> Result<(), StoreError> {
        for org in clinics {
            sql::query("INSERT INTO authorisation_clinics (grant_id, org_number) VALUES ($1, $2)")
                .bind(grant_id)
                .bind(org)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    pub async fn end_authorisation(
        &mut self,
        id: &[u8],
        by: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = sql::query("UPDATE authorisations SET ended_at = $1, ended_by = $2 WHERE id = $3 AND ended_at IS NULL")
            .bind(now)
            .bind(by)
            .bind(id)
            .execute(self.conn())
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    pub async fn start_care_relationship(
        &mut self,
        staff_id: &[u8],
        patient_id: &[u8],
        now: i64,
    ) -> Result<(), StoreError> {
        sql::query("INSERT INTO care_relationships (staff_id, patient_id, since, ended_at) VALUES ($1, $2, $3, NULL)")
            .bind(staff_id)
            .bind(patient_id)
            .bind(now)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn end_care_relationship(
        &mut self,
        staff_id: &[u8],
        patient_id: &[u8],
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = sql::query(
            "UPDATE care_relationships SET ended_at = $1 WHERE staff_id = $2 AND patient_id = $3 AND ended_at IS NULL",
        )
        .bind(now)
        .bind(staff_id)
        .bind(patient_id)
        .execute(self.conn())
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    pub async fn insert_emergency(&mut self, row: &EmergencyRow) -> Result<(), StoreError> {
        sql::query(
            "INSERT INTO emergency_access (id, staff_id, patient_id, reason, granted_at, expires_at, reviewed_by, reviewed_at, review_note) \
             VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL, NULL)",
        )
        .bind(&row.id)
        .bind(&row.staff_id)
        .bind(&row.patient_id)
        .bind(&row.reason)
        .bind(row.granted_at)
        .bind(row.expires_at)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn review_emergency(
        &mut self,
        id: &[u8],
        by: &str,
        note: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = sql::query(
            "UPDATE emergency_access SET reviewed_by = $1, reviewed_at = $2, review_note = $3 WHERE id = $4 AND reviewed_at IS NULL",
        )
        .bind(by)
        .bind(now)
        .bind(note)
        .bind(id)
        .execute(self.conn())
        .await?
        .rows_affected();
        Ok(n > 0)
    }
}
