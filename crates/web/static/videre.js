// Fortrolig: a form marked data-videre is sent on by itself (logging out at ID-porten or
// HelseID after logging out here). Without script, its button does the same.
for (const form of document.querySelectorAll('form[data-videre]')) {
  form.submit();
}
