"""Planning of military activities and engagements: ``vienna`` checks planned activities against
the OSCE Vienna Document, from versioned rule tables."""
