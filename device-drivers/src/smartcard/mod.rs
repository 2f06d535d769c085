//! Smart cards through PC/SC (pcscd): readers and their cards, the ATR,
//! and the holder data of a social security card where the card allows.

pub mod apdu;
mod worker;

use exam_domain::IdNumber;

pub use worker::{SmartCardEvent, spawn_watcher};

/// What the kiosk learns from a social security card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocialSecurityCard {
    pub card_number: String,
    /// The social security number is the holder's ID number.
    pub id_number: IdNumber,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardInfo {
    pub reader: String,
    pub atr: Vec<u8>,
    /// None for cards without the social security application.
    pub social_security: Option<SocialSecurityCard>,
}

#[derive(Debug, thiserror::Error)]
pub enum SmartCardError {
    #[error("PC/SC: {0}")]
    Pcsc(#[from] pcsc::Error),
    #[error("card: {0}")]
    Apdu(#[from] apdu::ApduError),
    #[error("the card's social security number is not a valid ID number")]
    IdNumber,
}

/// Anything that exchanges APDUs (a PC/SC card, or a test double).
pub trait Transmit {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, SmartCardError>;
}

impl Transmit for pcsc::Card {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, SmartCardError> {
        let mut buf = [0u8; pcsc::MAX_BUFFER_SIZE];
        Ok(pcsc::Card::transmit(self, apdu, &mut buf)?.to_vec())
    }
}

/// Reads the social security application, or None when the card has none.
pub fn read_social_security(
    card: &mut impl Transmit,
) -> Result<Option<SocialSecurityCard>, SmartCardError> {
    match apdu::ok_data(&card.transmit(&apdu::select_ssse())?) {
        Ok(_) => {}
        Err(apdu::ApduError::Status(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    apdu::ok_data(&card.transmit(&apdu::select_ef([0xEF, 0x05]))?)?;
    let card_number = apdu::text(&apdu::record_value(
        &card.transmit(&apdu::read_record(0x07))?,
        0x07,
    )?);
    apdu::ok_data(&card.transmit(&apdu::select_ef([0xEF, 0x06]))?)?;
    let id = apdu::text(&apdu::record_value(
        &card.transmit(&apdu::read_record(0x08))?,
        0x08,
    )?);
    let name = apdu::text(&apdu::record_value(
        &card.transmit(&apdu::read_record(0x09))?,
        0x09,
    )?);
    let id_number = IdNumber::parse(&id).map_err(|_| SmartCardError::IdNumber)?;
    Ok(Some(SocialSecurityCard {
        card_number,
        id_number,
        name,
    }))
}
