/**
 * A networked state store (Redis) that cannot be reached, or did not answer in time. Admin writes
 * answer it with 503 in the admin error shape (src/admin); provider requests never see it, because
 * every store answers them from local state when the network store fails.
 */
export class StateUnavailable extends Error {
  override name = 'StateUnavailable';
}
