//! Reads that show staff more than the public (drafts, inactive products), in one order:
//! the public copy (cached, no credential check) first, the caller's credential only on a
//! miss, so the hot path never authenticates.

use crate::error::ApiError;

/// The public copy at `key` when there is one; else, when `is_staff` allows, the staff
/// copy; else `not_found`. A `key` that failed to parse names nothing, but the caller's
/// credential is still checked, as for any miss (a bad credential stays a 401).
pub async fn public_or_staff<K, T, E>(
    key: Option<K>,
    public: impl AsyncFnOnce(&K) -> Result<Option<T>, E>,
    is_staff: impl AsyncFnOnce() -> Result<bool, ApiError>,
    staff: impl AsyncFnOnce(&K) -> Result<T, E>,
    not_found: E,
) -> Result<T, ApiError>
where
    ApiError: From<E>,
{
    // The misses are boxed: their futures (a credential check, a query) are kilobytes, and
    // inline they would size, and be copied with, every public hit's future.
    let Some(key) = key else {
        Box::pin(is_staff()).await?;
        return Err(not_found.into());
    };
    if let Some(found) = public(&key).await? {
        return Ok(found);
    }
    Box::pin(async {
        if !is_staff().await? {
            return Err(not_found.into());
        }
        Ok(staff(&key).await?)
    })
    .await
}
