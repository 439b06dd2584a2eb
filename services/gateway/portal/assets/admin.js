import { notAllowed } from "/assets/staff.js";

export async function admin() {
  notAllowed();
}
