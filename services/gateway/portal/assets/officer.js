import { notAllowed } from "/assets/staff.js";

export async function officer() {
  notAllowed();
}
