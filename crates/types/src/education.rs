//! Education: exams whose answers are committed before the deadline and
//! revealed after it, grading, and certificates (ADR 0008).
//!
//! The commitment is the records module's content commitment
//! ([`crate::sealed::content_commitment`]): a salted SHA-256 of the
//! answers. The reveal anchors the answers as a sealed record whose
//! commitment must be the committed one, so the answers are never in clear
//! on chain and neither the student nor the teacher can change them after
//! the commitment is final. Times are block times.

use crate::block::Height;
use crate::crypto::PublicKey;
use crate::digest::Digest;
use crate::names::{CourseName, CredentialType, OrgName};
use crate::record::Anchor;
use borsh::{BorshDeserialize, BorshSerialize};

/// Domain tag of exam ids.
const EXAM_DOMAIN: &[u8] = b"cityledger/exam/v1";

/// The id of the exam created by the transaction `tx_hash`.
pub fn exam_id(tx_hash: &Digest) -> Digest {
    Digest::of_parts(&[EXAM_DOMAIN, &tx_hash.0])
}

/// What a school states about a new exam.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ExamTerms {
    /// The school.
    pub org: OrgName,
    /// The course it examines.
    pub course: CourseName,
    /// From when commitments are taken, ms of block time.
    pub opens_at_ms: u64,
    /// Until when (exclusive) commitments are taken; reveals from then on.
    pub deadline_ms: u64,
    /// The highest score.
    pub max_score: u32,
    /// The lowest passing score; at most `max_score`.
    pub pass_mark: u32,
    /// The credential a pass issues, a type the school defines, with how
    /// long it is valid.
    pub certificate: Option<Certificate>,
}

/// The certificate a pass issues.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Certificate {
    /// The credential type.
    pub credential_type: CredentialType,
    /// How long it is valid from grading, ms.
    pub valid_ms: u64,
}

/// An operation of education.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum EducationOp {
    /// Define an exam; signed by a member of the school holding
    /// `exams.manage` (or admin).
    CreateExam(ExamTerms),
    /// Commit to answers; signed by the student, from the opening time
    /// until the deadline. A new commitment replaces the last one.
    Commit {
        /// The exam.
        exam: Digest,
        /// `sealed::content_commitment(salt, answers)`.
        commitment: Digest,
    },
    /// Reveal, after the deadline: anchor the answers as a sealed record
    /// owned by the student, whose commitment must be the committed one.
    Reveal {
        /// The exam.
        exam: Digest,
        /// The answers' record (no organisation; owner: the signer).
        anchor: Anchor,
    },
    /// Grade a revealed answer; signed by a teacher (`exams.grade`) of the
    /// school. A pass issues the exam's certificate.
    Grade {
        /// The exam.
        exam: Digest,
        /// The student.
        student: PublicKey,
        /// The score, at most the exam's maximum.
        score: u32,
    },
}

/// An exam in the state.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ExamRecord {
    /// Its terms.
    pub terms: ExamTerms,
    /// Who created it.
    pub created_by: PublicKey,
    /// Height of the creating block.
    pub created_height: Height,
}

/// A revealed answer.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Revealed {
    /// The answers' record.
    pub record: Digest,
    /// Height of the revealing block.
    pub height: Height,
    /// Its block time, ms.
    pub at_ms: u64,
}

/// A grade.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Grade {
    /// The score.
    pub score: u32,
    /// Whether it reaches the pass mark.
    pub passed: bool,
    /// The teacher.
    pub by: PublicKey,
    /// Height of the grading block.
    pub height: Height,
    /// Its block time, ms.
    pub at_ms: u64,
    /// The certificate issued, if any.
    pub credential: Option<Digest>,
}

/// One student's entry in an exam.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ExamEntry {
    /// The last commitment.
    pub commitment: Digest,
    /// Height of its block.
    pub committed_height: Height,
    /// Its block time, ms.
    pub committed_at_ms: u64,
    /// Set once revealed.
    pub revealed: Option<Revealed>,
    /// Set once graded.
    pub grade: Option<Grade>,
}
