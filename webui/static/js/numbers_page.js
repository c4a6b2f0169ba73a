/* A user's Telephony section (R29) and My profile (R30): the same row and pop-ups as the Telephony page. */
import { NumbersTable } from "./numbers_table.js";
import { RowActions } from "./row_actions.js";

const table = new NumbersTable(document.getElementById("numbers"));
new RowActions(table);
table.load();
