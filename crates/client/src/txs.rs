//! Building and signing transactions on the client side.
//!
//! Signing happens here, with the caller's key, and only the signed bytes
//! go to the node: a node never sees a secret key.

use cityledger_types::tx::{ChainId, ClientTxId, Memo, TransferOrder, TxBody};
use cityledger_types::{Action, Address, Amount, CurrencyCode, LedgerOp, SecretKey, SignedTx};

/// Everything a transfer names besides the signer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transfer {
    /// The chain it is for (see `StatusView::chain_id`).
    pub chain_id: ChainId,
    /// Debited account: the signer's key account, or an account of an
    /// organisation in which the signer holds the transfer role.
    pub from: Address,
    /// Credited account.
    pub to: Address,
    /// Currency code.
    pub currency: CurrencyCode,
    /// Amount in minor units.
    pub amount: Amount,
    /// Note for both parties; may be empty.
    pub memo: Memo,
    /// Client-chosen id, unique per signer: resubmitting the same id is
    /// safe, it is never applied twice.
    pub id: ClientTxId,
    /// Block time (ms since the Unix epoch) after which it may no longer be
    /// included; at most a day ahead of the node's clock.
    pub expires_at_ms: u64,
}

/// Signs `action` with `key` as signer.
pub fn sign_tx(
    key: &SecretKey,
    chain_id: ChainId,
    id: ClientTxId,
    expires_at_ms: u64,
    action: Action,
) -> SignedTx {
    TxBody {
        chain_id,
        signer: key.public_key(),
        id,
        expires_at_ms,
        action,
    }
    .sign(key)
}

/// A signed transfer.
pub fn transfer_tx(key: &SecretKey, transfer: Transfer) -> SignedTx {
    let order = TransferOrder {
        from: transfer.from,
        to: transfer.to,
        currency: transfer.currency,
        amount: transfer.amount,
        memo: transfer.memo,
    };
    sign_tx(
        key,
        transfer.chain_id,
        transfer.id,
        transfer.expires_at_ms,
        Action::Ledger(LedgerOp::Transfer(order)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityledger_api::tx_text;

    #[test]
    fn transfer_is_signed_by_the_key_and_round_trips() {
        let key = SecretKey::from_seed([11; 32]);
        let from = Address::of_key(&key.public_key());
        let to = Address::of_key(&SecretKey::from_seed([12; 32]).public_key());
        let tx = transfer_tx(
            &key,
            Transfer {
                chain_id: ChainId::new("cityledger-dev").unwrap(),
                from,
                to,
                currency: CurrencyCode::new("CITY").unwrap(),
                amount: Amount(1250),
                memo: Memo::new("rent").unwrap(),
                id: ClientTxId::new("rent-2025-01").unwrap(),
                expires_at_ms: 1_700_000_060_000,
            },
        );
        assert_eq!(tx.body.signer, key.public_key());
        let payload = tx.body.signing_payload();
        assert_eq!(tx.body.signer.verify(&payload, &tx.signature), Ok(()));
        let Action::Ledger(LedgerOp::Transfer(order)) = &tx.body.action else {
            panic!("expected a transfer, got {:?}", tx.body.action);
        };
        assert_eq!(
            (order.from, order.to, order.amount),
            (from, to, Amount(1250))
        );
        let text = tx_text::encode_tx(&tx);
        assert_eq!(tx_text::decode_tx(&text), Ok(tx.clone()));
        assert_eq!(SignedTx::from_bytes(&tx.to_bytes()), Ok(tx));
    }
}
