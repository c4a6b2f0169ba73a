/* R45: rows on screen follow changes made elsewhere (another admin, a phone) without Refresh.
   The page listens to /api/v1/events/stream (Server-Sent Events); an event for a number on
   screen re-reads that row, as the Pending poll does. The server ends a stream after a few
   minutes and EventSource reconnects by itself with Last-Event-ID, so nothing is missed.
   Refresh (R9) still reloads the whole list. */
import { api } from "./api.js";

export function followChanges(table) {
  if (!window.EventSource) return null;
  const stream = new EventSource("/api/v1/events/stream");
  stream.onmessage = async (message) => {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    if (!event.number_id || !table.rows.has(event.number_id)) return;
    try {
      const data = await api("GET", `/api/v1/numbers?ids=${event.number_id}`);
      for (const row of data.numbers) table.update(row);
    } catch {
      // The next event, the Pending poll or Refresh brings it.
    }
  };
  return stream;
}
