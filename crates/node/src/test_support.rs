//! Transactions shared by the node's unit tests.

use cityledger_types::obligation::{
    Charge, Charges, Issuance, ObligationOp, PenaltyRule, Reference,
};
use cityledger_types::tx::{ChainId, ClientTxId, TxBody};
use cityledger_types::{
    Action, Address, Amount, CurrencyCode, KindName, OrgName, SecretKey, SignedTx,
};
use std::sync::Arc;

/// A bulk issuance of `charges` tolls, about 42 bytes a charge, with id
/// `b{index}`.
pub(crate) fn bulk_issuance(index: usize, charges: usize) -> Arc<SignedTx> {
    let key = SecretKey::from_seed([5; 32]);
    let payer = Address::of_key(&SecretKey::from_seed([6; 32]).public_key());
    let issuance = Issuance {
        org: OrgName::new("transport").unwrap(),
        kind: KindName::new("toll").unwrap(),
        payee: Address::parse_or_alias("transport:main").unwrap(),
        currency: CurrencyCode::new("CITY").unwrap(),
        due_at_ms: 1,
        penalty: PenaltyRule::None,
        charges: Charges(
            (0..charges)
                .map(|_| Charge {
                    payer,
                    amount: Amount(250),
                    reference: Reference::default(),
                    evidence: None,
                })
                .collect(),
        ),
    };
    let body = TxBody {
        chain_id: ChainId::new("test").unwrap(),
        signer: key.public_key(),
        id: ClientTxId::new(format!("b{index}")).unwrap(),
        expires_at_ms: 0,
        action: Action::Obligation(ObligationOp::Issue(issuance)),
    };
    Arc::new(body.sign(&key))
}
