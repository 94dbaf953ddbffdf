"use strict";
// The contact picker searches within the chosen organisation; a contact picked without one
// brings its organisation along, and choosing another organisation lets go of a contact
// of the previous one. (Pickers: static/js/pickers.js.)
document.addEventListener("DOMContentLoaded", function () {
  var contact = document.getElementById("id_contact");
  var organisation = document.getElementById("id_organisation");
  if (!contact || !contact.tomselect || !organisation || !organisation.tomselect) { return; }
  var contacts = contact.tomselect, organisations = organisation.tomselect;
  function organisationOf(value) {
    var option = value && contacts.options[value];
    return option && option.organisation ? String(option.organisation) : "";
  }
  contacts.on("change", function (value) {
    var option = value && contacts.options[value];
    var chosen = organisationOf(value);
    if (chosen && chosen !== organisations.getValue()) {
      organisations.addOption({ value: chosen, text: option.organisation_text || chosen });
      organisations.setValue(chosen, true);  // silently: the contact stays
      organisation.dispatchEvent(new Event("change"));  // the contact picker forgets other organisations' rows
    }
  });
  organisations.on("change", function (value) {
    var current = organisationOf(contacts.getValue());
    if (value && current && current !== String(value)) { contacts.clear(); }
  });
});
